/**
 * Faults a driver can inject into its chain's data plane, so that suites can prove chainprobe notices a
 * fault and names the hop. The kinds are shared by every driver; each driver says which kinds it can do
 * (`ChainDriver.faultKinds`) and how (the reference chain: nftables/tc/ip link; VPP: `set interface …`).
 *
 *   drop PCT          a random PCT % of the hop's ingress packets is dropped
 *   rate RATE         the hop's egress (or ingress, with no next hop) is limited to a tc-style rate
 *   down              the hop's ingress link is set down
 *   rewrite-source IP the hop rewrites the inner source address (the NAT-the-wrong-way failure)
 *   mtu BYTES         the hop's egress MTU is lowered (DF-set packets above it are dropped)
 */
import { ChainprobeError } from '../errors.ts';

export type Fault =
  | { kind: 'drop'; percent: number }
  | { kind: 'rate'; rate: string }
  | { kind: 'down' }
  | { kind: 'rewrite-source'; ip: string }
  | { kind: 'mtu'; mtuBytes: number };

export type FaultKind = Fault['kind'];

export const FAULT_KINDS: readonly FaultKind[] = ['drop', 'rate', 'down', 'rewrite-source', 'mtu'];

/** A fault set on a live chain, as run reports record it. */
export interface ActiveFault {
  hop: string;
  fault: Fault;
}

const RATE = /^(\d+(?:\.\d+)?)(bit|kbit|mbit|gbit|bps|kbps|mbps|gbps)$/i;
const MULT: Record<string, number> = {
  bit: 1 / 8,
  kbit: 125,
  mbit: 125_000,
  gbit: 125_000_000,
  bps: 1,
  kbps: 1000,
  mbps: 1e6,
  gbps: 1e9,
};

/** tc-style rate → bytes per second ("10mbit" = 1 250 000 B/s; "bps" is bytes per second, as in tc). */
export function rateBytesPerSecond(rate: string): number {
  const m = RATE.exec(rate.trim());
  if (!m)
    throw new ChainprobeError(
      'E_CONFIG',
      `rate "${rate}" is not a tc rate like 10mbit, 500kbit or 1mbps`,
      true,
    );
  const v = Math.round(Number(m[1]) * MULT[m[2].toLowerCase()]);
  if (v < 1000) throw new ChainprobeError('E_CONFIG', `rate "${rate}" is below 8kbit`, true);
  return v;
}

export function validateFault(f: Fault): Fault {
  if (f.kind === 'drop' && !(Number.isInteger(f.percent) && f.percent >= 0 && f.percent <= 100)) {
    throw new ChainprobeError(
      'E_CONFIG',
      `drop percentage must be an integer 0..100 (got ${f.percent})`,
      true,
    );
  }
  if (f.kind === 'rate') rateBytesPerSecond(f.rate);
  if (
    f.kind === 'rewrite-source' &&
    !/^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/.test(f.ip)
  ) {
    throw new ChainprobeError('E_CONFIG', `rewrite-source needs an IPv4 address (got "${f.ip}")`, true);
  }
  if (f.kind === 'mtu' && !(Number.isInteger(f.mtuBytes) && f.mtuBytes >= 68 && f.mtuBytes <= 65535))
    throw new ChainprobeError('E_CONFIG', `mtu must be an integer 68..65535 (got ${f.mtuBytes})`, true);
  return f;
}

/** One line per fault for logs and status ("security: drop 30 %"). */
export function describeFault(f: Fault): string {
  switch (f.kind) {
    case 'drop':
      return `drop ${f.percent} %`;
    case 'rate':
      return `rate ${f.rate}`;
    case 'down':
      return 'ingress link down';
    case 'rewrite-source':
      return `rewrite source to ${f.ip}`;
    case 'mtu':
      return `egress MTU ${f.mtuBytes}`;
  }
}
