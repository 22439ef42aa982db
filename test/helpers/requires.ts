/**
 * The one way a test says what it needs from the machine. Locally a missing need skips the tests with the
 * reason printed; under CI (CI=true) it is an error, so a green CI run cannot hide a live path that never
 * ran (CI runs as root with every tool from scripts/setup.sh). Use as the condition of `describe.runIf`:
 *
 *   describe.runIf(requiresRoot('injectors on a veth pair'))('injectors on a veth pair', () => { … });
 *   test.runIf(requiresTool('tshark', 'tshark reassembles our fragments'))('…', async () => { … });
 *
 * A skip the user asked for (e.g. CHAINPROBE_NO_NATIVE=1) is `deliberate` and never an error.
 */
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

const inCi = () => process.env.CI === 'true' || process.env.CI === '1';

/** true: run. false: skipped, reason printed. Throws under CI unless the skip is deliberate. */
export function requires(what: string, available: boolean, need: string, deliberate = false): boolean {
  if (available) return true;
  if (inCi() && !deliberate)
    throw new Error(`${what}: ${need} — under CI=true this is a failure, not a skip (see scripts/setup.sh)`);
  console.warn(`[skipped] ${what}: ${need}`);
  return false;
}

export function requiresRoot(what: string): boolean {
  return requires(what, process.getuid?.() === 0, 'needs root (network namespaces, raw sockets, tcpdump)');
}

export function requiresTool(name: string, what: string): boolean {
  return requires(what, onPath(name), `needs ${name} on PATH (scripts/setup.sh installs it)`);
}

function onPath(name: string): boolean {
  return (process.env.PATH ?? '').split(delimiter).some((dir) => {
    try {
      accessSync(join(dir, name), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}
