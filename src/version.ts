/** `chainprobe --version`: the package version, and the git commit when run from a checkout. */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

// src/ and dist/ are both directly below the package root.
const ROOT = fileURLToPath(new URL('../', import.meta.url));

function packageVersion(): string {
  return (JSON.parse(readFileSync(`${ROOT}package.json`, 'utf8')) as { version: string }).version;
}

/** Short commit (with "-dirty" when the tree has changes), or null outside a git checkout. */
function gitCommit(): string | null {
  if (!existsSync(`${ROOT}.git`)) return null; // an installed package: node_modules/chainprobe has none
  const git = (...args: string[]) =>
    execFileSync('git', ['-C', ROOT, ...args], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
  try {
    const commit = git('rev-parse', '--short=12', 'HEAD');
    return git('status', '--porcelain', '--untracked-files=no') ? `${commit}-dirty` : commit;
  } catch {
    return null; // no git binary, or not a repository after all
  }
}

/** What `--version` prints: the same version and commit the reports record. */
export function versionText(): string {
  const { version, commit } = provenance();
  return `chainprobe ${version}${commit ? ` (git ${commit})` : ''}`;
}

/** Which chainprobe made a report (results JSON): version and commit, read once per process. */
export interface Provenance {
  version: string;
  commit: string | null;
}

let cached: Provenance | null = null;

/** CHAINPROBE_COMMIT overrides the commit (e.g. CI building from an archive without .git). */
export function provenance(): Provenance {
  cached ??= { version: packageVersion(), commit: process.env.CHAINPROBE_COMMIT ?? gitCommit() };
  return cached;
}
