/**
 * What NetFlow v9 (RFC 3954) and IPFIX (RFC 7011) share: templates that describe records field by field,
 * the values carried in data records, and a template cache per exporter/source, as a collector keeps one.
 *
 * A field value is a number for 1..4-byte fields, a bigint for 8-byte fields, and raw bytes otherwise
 * (addresses stay numbers: 4 bytes). IPFIX variable-length fields (template length 65535) are bytes.
 */
import { checkUint, readU16, readU32, readU64, writeU16, writeU32, writeU64 } from '../bytes.ts';
import { DecodeError, EncodeError } from '../errors.ts';

export const VARIABLE_LENGTH = 65535;

export interface TemplateField {
  /** Information Element id (v9 field type), without the enterprise bit */
  id: number;
  /** bytes, or VARIABLE_LENGTH (IPFIX only) */
  length: number;
  /** IPFIX private enterprise number (the IE id then has the enterprise bit set on the wire) */
  enterprise?: number;
}

export interface Template {
  templateId: number;
  fields: TemplateField[];
  /** options templates: the first `scopeFieldCount` fields are scope fields */
  scopeFieldCount?: number;
}

export type FieldValue = number | bigint | Uint8Array;

/** Bytes a fixed-length record of this template takes (variable fields counted at their minimum, 1). */
export function recordLength(t: Template): number {
  let n = 0;
  for (const f of t.fields) n += f.length === VARIABLE_LENGTH ? 1 : f.length;
  return n;
}

export function valueLength(f: TemplateField, v: FieldValue): number {
  if (f.length !== VARIABLE_LENGTH) return f.length;
  const n = (v as Uint8Array).length;
  return n < 255 ? 1 + n : 3 + n;
}

export function writeValue(
  layer: string,
  f: TemplateField,
  v: FieldValue,
  buf: Uint8Array,
  o: number,
): number {
  if (f.length === VARIABLE_LENGTH) {
    if (!(v instanceof Uint8Array))
      throw new EncodeError(layer, `ie${f.id}`, 'variable-length value must be bytes');
    if (v.length > 0xffff) throw new EncodeError(layer, `ie${f.id}`, `${v.length} bytes exceed 65535`);
    let p = o;
    if (v.length < 255) buf[p++] = v.length;
    else {
      buf[p++] = 255;
      writeU16(buf, p, v.length);
      p += 2;
    }
    buf.set(v, p);
    return p + v.length - o;
  }
  if (typeof v === 'number') {
    if (f.length > 4 || !Number.isInteger(v) || v < 0 || v >= 2 ** (8 * f.length))
      throw new EncodeError(layer, `ie${f.id}`, `${v} does not fit ${f.length} bytes`);
    if (f.length === 1) buf[o] = v;
    else if (f.length === 2) writeU16(buf, o, v);
    else if (f.length === 4) writeU32(buf, o, v);
    else for (let i = f.length - 1, x = v; i >= 0; i--, x = Math.floor(x / 256)) buf[o + i] = x & 255;
  } else if (typeof v === 'bigint') {
    if (f.length !== 8)
      throw new EncodeError(layer, `ie${f.id}`, `bigint value for a ${f.length}-byte field`);
    writeU64(buf, o, v);
  } else {
    if (v.length !== f.length)
      throw new EncodeError(layer, `ie${f.id}`, `${v.length} bytes for a ${f.length}-byte field`);
    buf.set(v, o);
  }
  return f.length;
}

/** Reads one value at `o` (bounded by `end`); returns it and the bytes read through `out`. */
export function readValue(
  layer: string,
  f: TemplateField,
  buf: Uint8Array,
  o: number,
  end: number,
  out: { bytes: number },
): FieldValue {
  let n = f.length;
  let p = o;
  if (n === VARIABLE_LENGTH) {
    if (p + 1 > end) throw new DecodeError(layer, p, 'truncated variable-length field');
    n = buf[p++];
    if (n === 255) {
      if (p + 2 > end) throw new DecodeError(layer, p, 'truncated variable-length field');
      n = readU16(buf, p);
      p += 2;
    }
    if (p + n > end) throw new DecodeError(layer, p, `variable-length field of ${n} bytes overruns the set`);
    out.bytes = p + n - o;
    return buf.slice(p, p + n);
  }
  if (p + n > end) throw new DecodeError(layer, p, `field ${f.id} (${n} bytes) overruns the set`);
  out.bytes = n;
  if (n === 1) return buf[p];
  if (n === 2) return readU16(buf, p);
  if (n === 4) return readU32(buf, p);
  if (n === 8) return readU64(buf, p);
  if (n === 3) return (buf[p] << 16) | (buf[p + 1] << 8) | buf[p + 2];
  return buf.slice(p, p + n);
}

/**
 * Templates as a collector keeps them: per exporter scope (v9: source id; IPFIX: observation domain, plus
 * the exporter address when the caller has one) and template id.
 */
export class TemplateCache {
  private readonly byKey = new Map<string, Template>();
  set(scope: string, t: Template): void {
    this.byKey.set(`${scope}/${t.templateId}`, t);
  }
  get(scope: string, templateId: number): Template | undefined {
    return this.byKey.get(`${scope}/${templateId}`);
  }
  get size(): number {
    return this.byKey.size;
  }
}

/** Zero bytes needed to pad `n` to a multiple of 4 (sets and FlowSets are 32-bit aligned). */
export const pad4 = (n: number): number => (4 - (n & 3)) & 3;

/** A data set / data FlowSet: records decoded with their template, or raw bytes when it was unknown. */
export interface DataSet {
  kind: 'data';
  templateId: number;
  records?: FieldValue[][];
  raw?: Uint8Array;
}

/** Content bytes of a data set (no set header, no padding); its template must be in `templates`. */
export function dataSetContentBytes(layer: string, s: DataSet, templates: Map<number, Template>): number {
  if (s.raw) return s.raw.length;
  const t = templates.get(s.templateId);
  if (!t) throw new EncodeError(layer, 'sets', `data set for template ${s.templateId}, not known`);
  let n = 0;
  for (const r of s.records ?? [])
    for (let i = 0; i < t.fields.length; i++) n += valueLength(t.fields[i], r[i]);
  return n;
}

/** Writes a data set's content at `o` (after its 4-byte header); returns the offset after it. */
export function writeDataSetContent(
  layer: string,
  s: DataSet,
  templates: Map<number, Template>,
  b: Uint8Array,
  o: number,
): number {
  if (s.raw) {
    b.set(s.raw, o);
    return o + s.raw.length;
  }
  const t = templates.get(s.templateId)!;
  let p = o;
  for (const r of s.records ?? []) {
    if (r.length !== t.fields.length)
      throw new EncodeError(layer, 'records', `${r.length} values for ${t.fields.length} fields`);
    for (let i = 0; i < r.length; i++) p += writeValue(layer, t.fields[i], r[i], b, p);
  }
  return p;
}

/** Reads the data set `templateId` in [p, setEnd) with the template cached for `scope` (raw if unknown). */
export function readDataSet(
  layer: string,
  templateId: number,
  scope: string,
  cache: TemplateCache,
  buf: Uint8Array,
  p: number,
  setEnd: number,
): DataSet {
  const t = cache.get(scope, templateId);
  if (!t) return { kind: 'data', templateId, raw: buf.slice(p, setEnd) };
  const records: FieldValue[][] = [];
  const min = recordLength(t);
  const out = { bytes: 0 };
  // Records while a whole one still fits; what remains is padding.
  while (min > 0 && p + min <= setEnd) {
    const r: FieldValue[] = [];
    for (const f of t.fields) {
      r.push(readValue(layer, f, buf, p, setEnd, out));
      p += out.bytes;
    }
    records.push(r);
  }
  return { kind: 'data', templateId, records };
}

/** The sets of a v9 packet or an IPFIX message: template, options template, data. */
export type TemplatedSet = { kind: 'template' | 'options-template'; templates: Template[] } | DataSet;

/** Templates data sets may use when encoding: `known` ones (sent earlier), then those in these sets. */
export function templatesForEncoding(
  sets: TemplatedSet[],
  known: Iterable<Template> = [],
): Map<number, Template> {
  const m = new Map<number, Template>();
  for (const t of known) m.set(t.templateId, t);
  for (const s of sets) if (s.kind !== 'data') for (const t of s.templates) m.set(t.templateId, t);
  return m;
}

/** What differs between v9 FlowSets and IPFIX sets when encoding: set ids and template records. */
export interface SetDialect {
  layer: string;
  templateSetId: number;
  optionsSetId: number;
  /** bytes of one (options) template record: header + field specifiers */
  templateBytes(t: Template, kind: 'template' | 'options-template'): number;
  /** writes one (options) template record at `o`, returns the bytes written */
  writeTemplate(t: Template, kind: 'template' | 'options-template', b: Uint8Array, o: number): number;
  /**
   * reads one (options) template record at `p` (bounded by `setEnd`) into `out.template`, returns the
   * offset after it, or -1 when what is left is padding
   */
  readTemplate(
    buf: Uint8Array,
    p: number,
    setEnd: number,
    kind: 'template' | 'options-template',
    out: { template?: Template },
  ): number;
  /** what a set is called in errors ('FlowSet', 'set') */
  setName: string;
  /** v9: fewer than 4 bytes after the last FlowSet are padding; IPFIX: the message ends with a set */
  trailingPadding: boolean;
}

/**
 * Decodes the sets in [o, end); templates found go into `cache` under `scope`, data sets are decoded with
 * the templates known so far (raw otherwise).
 */
export function decodeSets(
  d: SetDialect,
  buf: Uint8Array,
  o: number,
  end: number,
  scope: string,
  cache: TemplateCache,
): { sets: TemplatedSet[]; end: number } {
  const sets: TemplatedSet[] = [];
  while (d.trailingPadding ? o + 4 <= end : o < end) {
    if (o + 4 > end) throw new DecodeError(d.layer, o, `truncated ${d.setName} header`);
    const id = readU16(buf, o);
    const len = readU16(buf, o + 2);
    if (len < 4 || o + len > end)
      throw new DecodeError(
        d.layer,
        o + 2,
        `${d.setName} length ${len} does not fit the ${end - o} bytes left`,
      );
    const setEnd = o + len;
    if (id === d.templateSetId || id === d.optionsSetId) {
      const kind = id === d.templateSetId ? 'template' : 'options-template';
      const templates: Template[] = [];
      const out: { template?: Template } = {};
      for (let p = o + 4; p + 4 <= setEnd; ) {
        p = d.readTemplate(buf, p, setEnd, kind, out);
        if (p < 0) break; // padding
        cache.set(scope, out.template!);
        templates.push(out.template!);
      }
      sets.push({ kind, templates });
    } else if (id >= 256) sets.push(readDataSet(d.layer, id, scope, cache, buf, o + 4, setEnd));
    else throw new DecodeError(d.layer, o, `${d.setName} id ${id} is reserved`);
    o = setEnd;
  }
  return { sets, end: o };
}

/** A set's bytes on the wire: 4-byte header, content, padding to 4. */
export function setBytes(d: SetDialect, s: TemplatedSet, templates: Map<number, Template>): number {
  let n = 4;
  if (s.kind === 'data') n += dataSetContentBytes(d.layer, s, templates);
  else for (const t of s.templates) n += d.templateBytes(t, s.kind);
  return n + pad4(n);
}

/** Writes the sets at `o` (headers, content, zero padding); returns the offset after them. */
export function encodeSets(
  d: SetDialect,
  sets: readonly TemplatedSet[],
  templates: Map<number, Template>,
  b: Uint8Array,
  o: number,
): number {
  for (const s of sets) {
    const len = setBytes(d, s, templates);
    const start = o;
    o += 4;
    if (s.kind === 'data') {
      checkUint(d.layer, 'templateId', s.templateId - 256, 0xffff - 256);
      writeU16(b, start, s.templateId);
      o = writeDataSetContent(d.layer, s, templates, b, o);
    } else {
      writeU16(b, start, s.kind === 'template' ? d.templateSetId : d.optionsSetId);
      for (const t of s.templates) {
        checkUint(d.layer, 'templateId', t.templateId - 256, 0xffff - 256);
        o += d.writeTemplate(t, s.kind, b, o);
      }
    }
    b.fill(0, o, start + len);
    o = start + len;
    writeU16(b, start + 2, len);
  }
  return o;
}
