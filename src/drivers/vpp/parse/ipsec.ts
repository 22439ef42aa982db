/**
 * IPsec (ipsec_format.c): `show ipsec sa` (one line per SA), `show ipsec sa N` (detail, by SA index, which
 * prints the keys in clear) and `show ipsec protect`. Keys only ever leave the parser inside a
 * `VppSaSecret`, which redacts itself when serialised or inspected; `redactVppSecrets` cleans raw text.
 */
import { count, unrecognised, vppLines } from './text.ts';

export interface VppSaRef {
  /** VPP's SA index (what `show ipsec sa N` takes) */
  index: number;
  /** the SA id given at `ipsec sa add ID` */
  id: number;
  spi: number;
  protocol: 'esp' | 'ah';
  flags: string[];
}

const SA_LINE =
  /^\s*\[(\d+)\] sa (\d+) \(0x[0-9a-f]+\) spi (\d+) \(0x[0-9a-f]+\) protocol:(esp|ah) flags:\[([^\]]*)\]/;

function saRef(command: string, line: string): VppSaRef {
  const m = line.match(SA_LINE);
  if (!m) throw unrecognised(command, 'SA line not understood', line);
  return {
    index: Number(m[1]),
    id: Number(m[2]),
    spi: Number(m[3]),
    protocol: m[4] as 'esp' | 'ah',
    flags: (m[5] as string).split(/\s+/).filter(Boolean),
  };
}

export function parseShowIpsecSaList(text: string): VppSaRef[] {
  return vppLines(text)
    .filter((l) => l.trim() !== '')
    .map((l) => saRef('show ipsec sa', l));
}

const REDACTED = '[redacted]';
const INSPECT = Symbol.for('nodejs.util.inspect.custom');

/** SA keys as VPP printed them (hex). Serialises and inspects as "[redacted]"; read them with reveal(). */
export class VppSaSecret {
  readonly #keys: { crypto?: string; integrity?: string };
  constructor(keys: { crypto?: string; integrity?: string }) {
    this.#keys = { ...keys };
  }
  reveal(): { crypto?: string; integrity?: string } {
    return { ...this.#keys };
  }
  toJSON(): string {
    return REDACTED;
  }
  toString(): string {
    return REDACTED;
  }
  [INSPECT](): string {
    return REDACTED;
  }
}

export interface VppSa extends VppSaRef {
  salt: number;
  seq: number;
  seqHi: number;
  cryptoAlg: string;
  integrityAlg: string;
  /** VPP keeps one combined counter per SA: transmitted for an outbound SA, received for an inbound one */
  packets: number;
  bytes: number;
  /** every "SA errors" counter, by VPP's name ("packets lost", "Integrity check failed", …) */
  errors: Record<string, number>;
  secret: VppSaSecret;
}

const HEX_KEY = /^[0-9a-f]+$/i;

/** null when VPP says "No such SA index: N" (a hop without that SA). */
export function parseShowIpsecSa(text: string): VppSa | null {
  const command = 'show ipsec sa N';
  const lines = vppLines(text);
  if (/^No such SA index/.test(text)) return null;
  const ref = saRef(command, lines[0] ?? '');
  const find = (re: RegExp, what: string) => {
    for (const l of lines) {
      const m = l.match(re);
      if (m) return m;
    }
    throw unrecognised(command, `no ${what}`, text);
  };
  const seq = find(/^\s+seq (\d+) seq-hi (\d+)/, 'seq');
  const crypto = find(/^\s+crypto alg (\S+) key (\S+)/, 'crypto alg');
  const integ = find(/^\s+integrity alg (\S+) key (\S+)/, 'integrity alg');
  const txrx = find(/^\s+tx\/rx:\[packets:(\d+) bytes:(\d+)\]/, 'tx/rx counters');
  const errors: Record<string, number> = {};
  const errorsAt = lines.findIndex((l) => /^\s+SA errors:/.test(l));
  for (const l of errorsAt < 0 ? [] : lines.slice(errorsAt + 1)) {
    const m = l.match(/^\s+"([^"]+)":\[packets:(\d+)\]/);
    if (m) errors[m[1] as string] = count(command, m[1] as string, m[2]);
  }
  const key = (k: string) => (HEX_KEY.test(k) ? k : undefined);
  const crypto_ = key(crypto[2] as string);
  const integrity = key(integ[2] as string);
  return {
    ...ref,
    salt: Number.parseInt(find(/^\s+salt 0x([0-9a-f]+)/i, 'salt')[1] as string, 16),
    seq: Number(seq[1]),
    seqHi: Number(seq[2]),
    cryptoAlg: crypto[1] as string,
    integrityAlg: integ[1] as string,
    packets: Number(txrx[1]),
    bytes: Number(txrx[2]),
    errors,
    secret: new VppSaSecret({ ...(crypto_ ? { crypto: crypto_ } : {}), ...(integrity ? { integrity } : {}) }),
  };
}

/**
 * Any VPP text with the SA keys removed: `show ipsec sa N` detail ("crypto alg X key HEX") and the CLI that
 * creates SAs ("crypto-key HEX", "integ-key HEX"). Use it on every raw VPP output that may reach a log.
 */
export function redactVppSecrets(text: string): string {
  return text
    .replace(/(\b(?:crypto|integrity) alg \S+ key )(?!\[redacted\])\S+/g, `$1${REDACTED}`)
    .replace(/(\b(?:crypto|integ)-key\s+)\S+/g, `$1${REDACTED}`);
}

export interface VppTunnelProtect {
  interface: string;
  outputSa: VppSaRef;
  inputSas: VppSaRef[];
}

export function parseShowIpsecProtect(text: string): VppTunnelProtect[] {
  const command = 'show ipsec protect';
  const out: { interface: string; outputSa?: VppSaRef; inputSas: VppSaRef[] }[] = [];
  let direction: 'output' | 'input' | undefined;
  for (const line of vppLines(text)) {
    const head = line.match(/^(\S+) flags:/);
    if (head) {
      out.push({ interface: head[1] as string, inputSas: [] });
      direction = undefined;
    } else if (/^\s+output-sa:/.test(line)) direction = 'output';
    else if (/^\s+input-sa:/.test(line)) direction = 'input';
    else if (SA_LINE.test(line)) {
      const current = out.at(-1);
      if (!current || !direction) throw unrecognised(command, 'SA outside an interface section', line);
      if (direction === 'output') current.outputSa = saRef(command, line);
      else current.inputSas.push(saRef(command, line));
    }
  }
  return out.map((p) => {
    if (!p.outputSa) throw unrecognised(command, `${p.interface} has no output SA`, text);
    return { interface: p.interface, outputSa: p.outputSa, inputSas: p.inputSas };
  });
}
