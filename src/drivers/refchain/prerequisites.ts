/** What `chain up` needs on this machine, checked up front so the error names exactly what is missing. */
import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { ChainprobeError } from '../../errors.ts';
import { CHARON_BIN } from './charon.ts';
import { PYTHON } from './sink.ts';

const CAP_NET_ADMIN = 12n;
const CAP_SYS_ADMIN = 21n; // netns creation and charon's private /run mount

function hasCap(bit: bigint): boolean {
  const m = /CapEff:\s*([0-9a-f]+)/.exec(readFileSync('/proc/self/status', 'utf8'));
  return !!m && ((BigInt(`0x${m[1]}`) >> bit) & 1n) === 1n;
}

function which(tool: string): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/sbin', '/usr/bin', '/bin'];
  for (const d of dirs) {
    const p = join(d, tool);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      /* next */
    }
  }
  return undefined;
}

/** Throws E_NO_PRIVILEGE or E_MISSING_TOOL naming every missing piece and its Debian package. */
export function checkPrerequisites(): void {
  if (process.getuid?.() !== 0 && !(hasCap(CAP_NET_ADMIN) && hasCap(CAP_SYS_ADMIN))) {
    throw new ChainprobeError(
      'E_NO_PRIVILEGE',
      'the reference chain needs root (or CAP_NET_ADMIN + CAP_SYS_ADMIN) to create network namespaces; run it with sudo',
    );
  }
  const missing: string[] = [];
  const tools: [string, string][] = [
    ['ip', 'iproute2'],
    ['tc', 'iproute2'],
    ['nft', 'nftables'],
    ['tcpdump', 'tcpdump'],
    ['swanctl', 'strongswan-swanctl'],
    ['unshare', 'util-linux'],
    ['sysctl', 'procps'],
  ];
  for (const [tool, pkg] of tools) if (!which(tool)) missing.push(`${tool} (Debian package ${pkg})`);
  if (!existsSync(CHARON_BIN)) missing.push(`${CHARON_BIN} (strongswan-charon)`);
  if (!existsSync('/usr/lib/ipsec/plugins/libstrongswan-kernel-libipsec.so'))
    missing.push('strongSwan kernel-libipsec plugin (libcharon-extra-plugins)');
  // AES-GCM: strongSwan's openssl or gcm plugin (Debian: libstrongswan-standard-plugins, only a Recommends)
  if (!['openssl', 'gcm'].some((p) => existsSync(`/usr/lib/ipsec/plugins/libstrongswan-${p}.so`)))
    missing.push('strongSwan AES-GCM support (libstrongswan-standard-plugins)');
  if (!existsSync(PYTHON))
    missing.push(`${PYTHON} (python3; the UDP sink and probe sender use its standard library)`);
  if (!existsSync('/dev/net/tun'))
    missing.push('/dev/net/tun (kernel TUN support, needed by kernel-libipsec)');
  if (missing.length) {
    throw new ChainprobeError(
      'E_MISSING_TOOL',
      `the reference chain needs: ${missing.join('; ')}. scripts/setup.sh installs them.`,
    );
  }
}
