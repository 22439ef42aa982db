/**
 * The nightly CI workflow, checked offline: the workflow linter (@action-validator/cli, GitHub's workflow
 * schema, bundled as WebAssembly) accepts it and rejects a broken copy; the steps are in the order that
 * makes the history carry over (restore → benchmark → save/upload even on failure); and the script CI runs
 * is the one `npm run nightly` runs, with the steps the issue names.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';

const WORKFLOW = '.github/workflows/nightly.yml';
const lint = (file: string) => execa('npx', ['action-validator', file], { reject: false, timeout: 60_000 });

describe('nightly workflow', () => {
  const text = readFileSync(WORKFLOW, 'utf8');

  it('passes the workflow linter, and the linter rejects a broken workflow', async () => {
    const ok = await lint(WORKFLOW);
    expect(ok.exitCode, ok.stdout + ok.stderr).toBe(0);
    const broken = join(tmpdir(), `nightly-broken-${process.pid}.yml`);
    writeFileSync(broken, text.replace('runs-on: ubuntu-latest', 'runs_on: ubuntu-latest'));
    const bad = await lint(broken);
    expect(bad.exitCode).not.toBe(0);
    expect(bad.stdout + bad.stderr).toMatch(/runs_on|runs-on/);
  });

  it('runs on a schedule and on demand; restores the history first, keeps it and the reports even on failure', () => {
    expect(text).toMatch(/schedule:\s*\n\s*- cron: "[^"]+"/);
    expect(text).toMatch(/workflow_dispatch:/);
    const at = (s: string) => {
      const i = text.indexOf(s);
      expect(i, s).toBeGreaterThan(-1);
      return i;
    };
    const restore = at('actions/cache/restore@');
    const nightly = at('bash scripts/nightly.sh');
    const save = at('actions/cache/save@');
    const upload = at('actions/upload-artifact@');
    expect(restore).toBeLessThan(nightly);
    expect(nightly).toBeLessThan(save);
    expect(nightly).toBeLessThan(upload);
    expect(text.slice(save - 200, save)).toMatch(/if: always\(\)/);
    expect(text.slice(upload - 200, upload)).toMatch(/if: always\(\)/);
    expect(text).toContain('path: reports/nightly/history.jsonl');
  });

  it('npm run nightly is the same script: ndr on 100 and 8000 B into the history, the soak, trend', async () => {
    const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { scripts: Record<string, string> };
    expect(pkg.scripts.nightly).toBe('bash scripts/nightly.sh');
    expect(text).toContain('NIGHTLY_SIZES: "100,8000"');
    const script = readFileSync('scripts/nightly.sh', 'utf8');
    expect((await execa('bash', ['-n', 'scripts/nightly.sh'], { reject: false })).exitCode).toBe(0);
    expect(script).toMatch(/SIZES=\$\{NIGHTLY_SIZES:-100,8000\}/);
    expect(script).toMatch(
      /chainprobe ndr --profile "\$PROFILE" --size "\$SIZES"[^\n]*\\\n[^\n]*--history "\$HISTORY"/,
    );
    expect(script).toMatch(/\nchainprobe soak --profile "\$PROFILE" --duration "\$SOAK_S" --report/);
    // the soak command the script calls exists and parses these options
    const help = await execa('./bin/chainprobe.js', ['soak', '--help'], { reject: false });
    expect(help.exitCode).toBe(0);
    expect(help.stdout).toMatch(/--duration S +seconds \(default 300\)/);
    expect(script).toMatch(/SOAK_S=\$\{NIGHTLY_SOAK_S:-300\}/);
    expect(script).toMatch(/chainprobe trend "\$HISTORY" --min-change "\$MIN_CHANGE" --report/);
    expect(script).toMatch(/trap 'chainprobe chain down/);
  });
});
