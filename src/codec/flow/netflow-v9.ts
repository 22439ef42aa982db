/**
 * NetFlow v9 export packet (RFC 3954).
 *
 *   header (20): 0 version=9 | 2 count (records of every kind: templates + options templates + data)
 *                | 4 sysUptime ms | 8 unixSecs | 12 sequence (counts export *packets*) | 16 sourceId
 *   FlowSet: 0 flowSetId | 2 length (header + content + padding, a multiple of 4)
 *     id 0   template FlowSet:          { templateId, fieldCount, (type, length) × fieldCount } …
 *     id 1   options template FlowSet:  { templateId, scopeLength, optionLength, scope (type, length) …,
 *                                         option (type, length) … } … (lengths in bytes of the field lists)
 *     id ≥ 256 data FlowSet: records of template `id`, back to back, then zero padding.
 *
 * Decoding data FlowSets needs the templates: pass a TemplateCache (a collector keeps one per source id);
 * a data FlowSet whose template is unknown is kept raw (`records` undefined), as RFC 3954 §9 asks.
 */
import { checkUint, needBytes, readU16, readU32, targetBuffer, writeU16, writeU32 } from '../bytes.ts';
import type { Codec } from '../codec.ts';
import { DecodeError } from '../errors.ts';
import {
  decodeSets,
  encodeSets,
  type SetDialect,
  setBytes,
  type Template,
  TemplateCache,
  type TemplatedSet,
  templatesForEncoding,
} from './templates.ts';

export const NETFLOW_V9_HEADER_BYTES = 20;

export type V9FlowSet = TemplatedSet;

export interface NetflowV9Packet {
  sysUptimeMs: number;
  unixSecs: number;
  sequence: number;
  sourceId: number;
  flowSets: V9FlowSet[];
}

const LAYER = 'netflow-v9';

const V9_SETS: SetDialect = {
  layer: LAYER,
  templateSetId: 0,
  optionsSetId: 1,
  templateBytes: (t, kind) => (kind === 'template' ? 4 : 6) + 4 * t.fields.length,
  writeTemplate(t, kind, b, o) {
    const start = o;
    writeU16(b, o, t.templateId);
    if (kind === 'template') {
      writeU16(b, o + 2, t.fields.length);
      o += 4;
    } else {
      const scope = t.scopeFieldCount ?? 0;
      writeU16(b, o + 2, 4 * scope);
      writeU16(b, o + 4, 4 * (t.fields.length - scope));
      o += 6;
    }
    for (const f of t.fields) {
      checkUint(LAYER, 'field.id', f.id, 0xffff);
      checkUint(LAYER, 'field.length', f.length, 0xfffe);
      writeU16(b, o, f.id);
      writeU16(b, o + 2, f.length);
      o += 4;
    }
    return o - start;
  },
  readTemplate(buf, p, setEnd, kind, out) {
    if (p + (kind === 'template' ? 4 : 6) > setEnd) return -1;
    const templateId = readU16(buf, p);
    if (templateId < 256) return -1; // padding
    if (kind === 'template') {
      const count = readU16(buf, p + 2);
      if (p + 4 + 4 * count > setEnd)
        throw new DecodeError(LAYER, p + 2, `${count} fields overrun the FlowSet`);
      out.template = { templateId, fields: readFields(buf, p + 4, count) };
      return p + 4 + 4 * count;
    }
    const scopeLen = readU16(buf, p + 2);
    const optLen = readU16(buf, p + 4);
    if ((scopeLen | optLen) & 3 || p + 6 + scopeLen + optLen > setEnd)
      throw new DecodeError(LAYER, p + 2, `options template lengths ${scopeLen}+${optLen} are invalid`);
    out.template = {
      templateId,
      fields: readFields(buf, p + 6, (scopeLen + optLen) / 4),
      scopeFieldCount: scopeLen / 4,
    };
    return p + 6 + scopeLen + optLen;
  },
  setName: 'FlowSet',
  trailingPadding: true,
};

/** Records the count field counts: every template, options template and data record. */
function recordCount(s: V9FlowSet): number {
  return s.kind === 'data' ? (s.records?.length ?? 0) : s.templates.length;
}

/**
 * The v9 codec. Encoding data FlowSets whose templates were sent in an earlier packet: use
 * `netflowV9With(templates)`.
 */
export function netflowV9With(
  known: Iterable<Template> = [],
  cache = new TemplateCache(),
): Codec<NetflowV9Packet> {
  const length = (v: NetflowV9Packet, ts: Map<number, Template>) =>
    v.flowSets.reduce((n, s) => n + setBytes(V9_SETS, s, ts), NETFLOW_V9_HEADER_BYTES);
  return {
    name: LAYER,
    encodingLength: (v) => length(v, templatesForEncoding(v.flowSets, known)),
    encode(v, buf, offset = 0) {
      const ts = templatesForEncoding(v.flowSets, known);
      const n = length(v, ts);
      for (const k of ['sysUptimeMs', 'unixSecs', 'sequence', 'sourceId'] as const)
        checkUint(LAYER, k, v[k], 0xffffffff);
      const count = v.flowSets.reduce((a, s) => a + recordCount(s), 0);
      checkUint(LAYER, 'count', count, 0xffff);
      const b = targetBuffer(buf, offset, n, LAYER);
      writeU16(b, offset, 9);
      writeU16(b, offset + 2, count);
      writeU32(b, offset + 4, v.sysUptimeMs);
      writeU32(b, offset + 8, v.unixSecs);
      writeU32(b, offset + 12, v.sequence);
      writeU32(b, offset + 16, v.sourceId);
      encodeSets(V9_SETS, v.flowSets, ts, b, offset + NETFLOW_V9_HEADER_BYTES);
      return n;
    },
    decode(buf, offset = 0) {
      return decodeNetflowV9(buf, offset, buf.length, cache);
    },
  };
}

export const netflowV9 = netflowV9With();

function readFields(buf: Uint8Array, o: number, count: number): Template['fields'] {
  const fields: Template['fields'] = [];
  for (let i = 0; i < count; i++)
    fields.push({ id: readU16(buf, o + 4 * i), length: readU16(buf, o + 4 * i + 2) });
  return fields;
}

/** Decodes the export packet in [offset, end); templates found are added to `cache` (scope: source id). */
export function decodeNetflowV9(
  buf: Uint8Array,
  offset: number,
  end: number,
  cache: TemplateCache,
): { value: NetflowV9Packet; bytesRead: number } {
  needBytes(buf, offset, NETFLOW_V9_HEADER_BYTES, LAYER);
  const version = readU16(buf, offset);
  if (version !== 9) throw new DecodeError(LAYER, offset, `version ${version}, expected 9`);
  const sourceId = readU32(buf, offset + 16);
  const scope = String(sourceId);
  const { sets: flowSets, end: o } = decodeSets(
    V9_SETS,
    buf,
    offset + NETFLOW_V9_HEADER_BYTES,
    end,
    scope,
    cache,
  );
  return {
    value: {
      sysUptimeMs: readU32(buf, offset + 4),
      unixSecs: readU32(buf, offset + 8),
      sequence: readU32(buf, offset + 12),
      sourceId,
      flowSets,
    },
    bytesRead: o - offset,
  };
}
