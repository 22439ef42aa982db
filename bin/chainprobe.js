#!/usr/bin/env node
// The `chainprobe` command.
//
// Installed from npm, the package holds only the compiled dist/ (no TypeScript loader needed). In a
// checkout of the repository, src/ is run directly through tsx (a devDependency) so an edit is live at
// once and a stale dist/ can never be what a developer or the test suite runs; dist/ there is only the
// build that `npm pack` publishes (scripts/build.sh, run by setup and prepack, exercised by
// test/package). Without tsx (e.g. `npm ci --omit=dev` in a checkout), the checkout falls back to dist/.
import { existsSync } from 'node:fs';

const fromSource = new URL('../src/cli/main.ts', import.meta.url);
let entry = new URL('../dist/cli/main.js', import.meta.url);
if (existsSync(fromSource)) {
  try {
    const { register } = await import('tsx/esm/api');
    register();
    entry = fromSource;
  } catch {
    // no tsx: use the build
  }
}
if (entry !== fromSource && !existsSync(entry)) {
  console.error('chainprobe: dist/ is not built; run `npm run build` (or `bash scripts/setup.sh`)');
  process.exit(2);
}
const { cli } = await import(entry.href);
await cli(process.argv.slice(2));
