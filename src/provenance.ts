/**
 * Which chainprobe made a report: the package version and, when it runs from a git checkout, the commit
 * (CHAINPROBE_COMMIT overrides, e.g. in CI building from an archive). Read once per process.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface Provenance {
  version: string;
  commit: string | null;
}

let cached: Provenance | null = null;

/** The nearest package.json above this module that is chainprobe's (works from src/ and a compiled dist/). */
function packageRoot(): string | null {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pj = join(dir, 'package.json');
    if (existsSync(pj)) {
      try {
        if (JSON.parse(readFileSync(pj, 'utf8')).name === 'chainprobe') return dir;
      } catch {
        // not JSON: keep looking upwards
      }
    }
    const up = dirname(dir);
    if (up === dir) return null;
    dir = up;
  }
}

export function provenance(): Provenance {
  if (cached) return cached;
  const root = packageRoot();
  let version = '0.0.0';
  let commit: string | null = process.env.CHAINPROBE_COMMIT ?? null;
  if (root) {
    version = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version ?? version;
    if (!commit && existsSync(join(root, '.git'))) {
      try {
        commit = execFileSync('git', ['rev-parse', 'HEAD'], {
          cwd: root,
          encoding: 'utf8',
          timeout: 5000,
          stdio: ['ignore', 'pipe', 'ignore'],
        }).trim();
      } catch {
        commit = null; // no git binary, or not a repository after all
      }
    }
  }
  cached = { version, commit };
  return cached;
}
