/**
 * IPFIX message (RFC 7011).
 *
 *   header (16): 0 version=10 | 2 length (whole message) | 4 exportTime s | 8 sequence (counts *data records*
 *                sent before this message, per observation domain) | 12 observationDomainId
 *   Set: 0 setId | 2 length (header + content + padding)
 *     id 2 template set:          { templateId, fieldCount, fields } …
 *     id 3 options template set:  { templateId, fieldCount, scopeFieldCount, fields } …
 *     id ≥ 256 data set:          records of template `id`
 *   field specifier: IE id (2; top bit = enterprise) | length (2; 65535 = variable) [| enterprise number (4)]
 *   variable-length value: length < 255 in one byte, else 255 + a 2-byte length (§7).
 *
 * Data sets need templates: pass a TemplateCache (scope: observation domain); unknown templates → raw.
 */
import { checkUint, needBytes, readU16, readU32, targetBuffer, writeU16, writeU32 } from '../bytes.ts';
import type { Codec } from '../codec.ts';
import { DecodeError, EncodeError } from '../errors.ts';
import {
  decodeSets,
  encodeSets,
  type SetDialect,
  setBytes,
  type Template,
  TemplateCache,
  type TemplatedSet,
  type TemplateField,
  templatesForEncoding,
} from './templates.ts';

export const IPFIX_HEADER_BYTES = 16;
const ENTERPRISE_BIT = 0x8000;

export type IpfixSet = TemplatedSet;

export interface IpfixMessage {
  exportTime: number;
  sequence: number;
  observationDomainId: number;
  sets: IpfixSet[];
}

const LAYER = 'ipfix';

const specifierLength = (f: TemplateField) => (f.enterprise !== undefined ? 8 : 4);

const IPFIX_SETS: SetDialect = {
  layer: LAYER,
  templateSetId: 2,
  optionsSetId: 3,
  templateBytes: (t, kind) =>
    (kind === 'template' ? 4 : 6) + t.fields.reduce((a, f) => a + specifierLength(f), 0),
  writeTemplate(t, kind, b, o) {
    const start = o;
    writeU16(b, o, t.templateId);
    writeU16(b, o + 2, t.fields.length);
    o += 4;
    if (kind === 'options-template') {
      const scope = t.scopeFieldCount ?? 0;
      if (scope < 1)
        throw new EncodeError(LAYER, 'scopeFieldCount', 'an options template needs ≥ 1 scope field');
      writeU16(b, o, scope);
      o += 2;
    }
    for (const f of t.fields) {
      checkUint(LAYER, 'field.id', f.id, 0x7fff);
      checkUint(LAYER, 'field.length', f.length, 0xffff);
      writeU16(b, o, f.id | (f.enterprise !== undefined ? ENTERPRISE_BIT : 0));
      writeU16(b, o + 2, f.length);
      if (f.enterprise !== undefined) {
        checkUint(LAYER, 'field.enterprise', f.enterprise, 0xffffffff);
        writeU32(b, o + 4, f.enterprise);
      }
      o += specifierLength(f);
    }
    return o - start;
  },
  readTemplate(buf, p, setEnd, kind, out) {
    const templateId = readU16(buf, p);
    const count = readU16(buf, p + 2);
    if (templateId < 256) return -1; // padding
    p += 4;
    let scopeFieldCount: number | undefined;
    if (kind === 'options-template') {
      if (p + 2 > setEnd) throw new DecodeError(LAYER, p, 'truncated options template');
      scopeFieldCount = readU16(buf, p);
      if (scopeFieldCount < 1 || scopeFieldCount > count)
        throw new DecodeError(LAYER, p, `scope field count ${scopeFieldCount} of ${count}`);
      p += 2;
    }
    const fields: TemplateField[] = [];
    for (let i = 0; i < count; i++) {
      if (p + 4 > setEnd)
        throw new DecodeError(LAYER, p, `template ${templateId}: field ${i} overruns the set`);
      const raw = readU16(buf, p);
      const f: TemplateField = { id: raw & 0x7fff, length: readU16(buf, p + 2) };
      p += 4;
      if (raw & ENTERPRISE_BIT) {
        if (p + 4 > setEnd) throw new DecodeError(LAYER, p, 'truncated enterprise number');
        f.enterprise = readU32(buf, p);
        p += 4;
      }
      fields.push(f);
    }
    out.template =
      scopeFieldCount === undefined ? { templateId, fields } : { templateId, fields, scopeFieldCount };
    return p;
  },
  setName: 'set',
  trailingPadding: false,
};

/** The IPFIX codec; data sets may use templates sent in earlier messages (`known`). */
export function ipfixWith(known: Iterable<Template> = [], cache = new TemplateCache()): Codec<IpfixMessage> {
  const templatesOf = (v: IpfixMessage) => templatesForEncoding(v.sets, known);
  const length = (v: IpfixMessage, ts: Map<number, Template>) =>
    v.sets.reduce((n, s) => n + setBytes(IPFIX_SETS, s, ts), IPFIX_HEADER_BYTES);
  return {
    name: LAYER,
    encodingLength: (v) => length(v, templatesOf(v)),
    encode(v, buf, offset = 0) {
      const ts = templatesOf(v);
      const n = length(v, ts);
      if (n > 0xffff) throw new EncodeError(LAYER, 'length', `${n} bytes exceed 65535`);
      checkUint(LAYER, 'exportTime', v.exportTime, 0xffffffff);
      checkUint(LAYER, 'sequence', v.sequence, 0xffffffff);
      checkUint(LAYER, 'observationDomainId', v.observationDomainId, 0xffffffff);
      const b = targetBuffer(buf, offset, n, LAYER);
      writeU16(b, offset, 10);
      writeU16(b, offset + 2, n);
      writeU32(b, offset + 4, v.exportTime);
      writeU32(b, offset + 8, v.sequence);
      writeU32(b, offset + 12, v.observationDomainId);
      encodeSets(IPFIX_SETS, v.sets, ts, b, offset + IPFIX_HEADER_BYTES);
      return n;
    },
    decode: (buf, offset = 0) => decodeIpfix(buf, offset, cache),
  };
}

export const ipfix = ipfixWith();

/** Decodes one message at `offset` (its length field bounds it); templates go into `cache`. */
export function decodeIpfix(
  buf: Uint8Array,
  offset: number,
  cache: TemplateCache,
): { value: IpfixMessage; bytesRead: number } {
  needBytes(buf, offset, IPFIX_HEADER_BYTES, LAYER);
  const version = readU16(buf, offset);
  if (version !== 10) throw new DecodeError(LAYER, offset, `version ${version}, expected 10`);
  const total = readU16(buf, offset + 2);
  if (total < IPFIX_HEADER_BYTES) throw new DecodeError(LAYER, offset + 2, `length ${total} < 16`);
  needBytes(buf, offset, total, LAYER, 'message');
  const end = offset + total;
  const domain = readU32(buf, offset + 12);
  const scope = String(domain);
  const { sets } = decodeSets(IPFIX_SETS, buf, offset + IPFIX_HEADER_BYTES, end, scope, cache);
  return {
    value: {
      exportTime: readU32(buf, offset + 4),
      sequence: readU32(buf, offset + 8),
      observationDomainId: domain,
      sets,
    },
    bytesRead: total,
  };
}
