/**
 * Which parser reads which vppctl command: the driver and `discover` look commands up here instead of
 * switching over them. Commands are matched by their words (`show ipsec sa 3` → the SA-detail parser).
 */
import { parseShowClockVerbose } from './clock.ts';
import { parseShowErrors } from './errors.ts';
import { parseShowHardwareInterfaces, parseShowInterface, parseShowInterfaceAddr } from './interface.ts';
import { parseShowIp4FullReassembly, parseShowIpFib } from './ip.ts';
import { parseShowIpipTunnel } from './ipip.ts';
import { parseShowIpsecProtect, parseShowIpsecSa, parseShowIpsecSaList } from './ipsec.ts';
import { parseShowBridgeDomainDetail, parseShowVxlanTunnel } from './l2.ts';
import {
  parseShowNat44Addresses,
  parseShowNat44Interfaces,
  parseShowNat44Sessions,
  parseShowNat44StaticMappings,
} from './nat44.ts';
import { parsePcapTraceOff, parseShowTrace } from './trace.ts';
import { parseShowVersion } from './version.ts';

/** The parsers by name; `VppParsed<'show errors'>` is what a command's parser returns. */
export const VPP_PARSERS = {
  'show version': { pattern: /^show version$/, parse: parseShowVersion },
  'show clock verbose': { pattern: /^show clock verbose$/, parse: parseShowClockVerbose },
  'show interface': { pattern: /^show (interface|int)$/, parse: parseShowInterface },
  'show interface addr': { pattern: /^show (interface|int) addr(ess)?$/, parse: parseShowInterfaceAddr },
  'show hardware-interfaces': {
    pattern: /^show (hardware-interfaces|hardware|hard)$/,
    parse: parseShowHardwareInterfaces,
  },
  'show errors': { pattern: /^show errors( verbose( \d+)?)?$/, parse: parseShowErrors },
  'show vxlan tunnel': { pattern: /^show vxlan tunnel$/, parse: parseShowVxlanTunnel },
  'show ipip tunnel': { pattern: /^show ipip tunnel$/, parse: parseShowIpipTunnel },
  'show bridge-domain N detail': {
    pattern: /^show bridge-domain \d+ detail$/,
    parse: parseShowBridgeDomainDetail,
  },
  'show nat44 static mappings': {
    pattern: /^show nat44 static mappings$/,
    parse: parseShowNat44StaticMappings,
  },
  'show nat44 interfaces': { pattern: /^show nat44 interfaces$/, parse: parseShowNat44Interfaces },
  'show nat44 addresses': { pattern: /^show nat44 addresses$/, parse: parseShowNat44Addresses },
  'show nat44 sessions': { pattern: /^show nat44 sessions$/, parse: parseShowNat44Sessions },
  'show ipsec sa': { pattern: /^show ipsec sa$/, parse: parseShowIpsecSaList },
  'show ipsec sa N': { pattern: /^show ipsec sa \d+$/, parse: parseShowIpsecSa },
  'show ipsec protect': { pattern: /^show ipsec protect$/, parse: parseShowIpsecProtect },
  'show ip fib': { pattern: /^show ip fib$/, parse: parseShowIpFib },
  'show ip4-full-reassembly': { pattern: /^show ip4-full-reassembly$/, parse: parseShowIp4FullReassembly },
  'show trace': { pattern: /^show trace( max \d+)?$/, parse: parseShowTrace },
  'pcap trace off': { pattern: /^pcap trace off$/, parse: (text: string) => parsePcapTraceOff(text) },
} as const;

export type VppCommand = keyof typeof VPP_PARSERS;
export type VppParsed<C extends VppCommand> = ReturnType<(typeof VPP_PARSERS)[C]['parse']>;

/** The parser for a vppctl command line, or undefined when none reads it. */
export function vppParserFor(
  cli: string,
): { command: VppCommand; parse: (text: string) => unknown } | undefined {
  const words = cli.trim().split(/\s+/).join(' ');
  for (const [command, entry] of Object.entries(VPP_PARSERS)) {
    if (entry.pattern.test(words)) return { command: command as VppCommand, parse: entry.parse };
  }
  return undefined;
}
