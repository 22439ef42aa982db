/**
 * chainprobe as its users get it: `npm pack` (which builds dist/), the tarball installed with production
 * dependencies only into a scratch project, and then the installed command and the `chainprobe/vitest`
 * entry used from there — no tsx, no devDependencies, no vitest until the suite installs it as the peer.
 * Needs the npm registry (the scratch project resolves chainprobe's dependencies).
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';

const REPO = resolve(import.meta.dirname, '../..');
const scratch = mkdtempSync(join(tmpdir(), 'cp-package-'));
const project = join(scratch, 'project');
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

// The scratch project is a stranger's: none of this process's npm (npx vitest) or vitest settings.
const env = Object.fromEntries(
  Object.entries(process.env).filter(([k]) => !/^(npm_|INIT_CWD$|VITEST|CI$|NODE_ENV$)/.test(k)),
);
const npm = (args: string[]) =>
  execa('npm', [...args, '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'], {
    cwd: project,
    extendEnv: false,
    env,
    timeout: 240_000,
  });
const npx = (args: string[], timeout = 60_000) =>
  execa('npx', ['--no-install', ...args], { cwd: project, extendEnv: false, env, reject: false, timeout });
const chainprobe = (...args: string[]) => npx(['chainprobe', ...args]);
const STACK_LINE = /^\s+at .+:\d+:\d+\)?$/m;
const POINTS = ['ingress', 'decap', 'wire', 'delivered'];

describe('the packed package, installed with production dependencies', () => {
  let files: string[] = [];
  beforeAll(async () => {
    const packed = await execa('npm', ['pack', '--json', '--pack-destination', scratch], {
      cwd: REPO,
      timeout: 240_000,
    });
    // prepack's build writes to stdout before npm's JSON
    const [info] = JSON.parse(packed.stdout.slice(packed.stdout.indexOf('\n[') + 1)) as {
      filename: string;
      files: { path: string }[];
    }[];
    files = info.files.map((f) => f.path);
    mkdirSync(project);
    writeFileSync(
      join(project, 'package.json'),
      JSON.stringify({ name: 'scratch', private: true, type: 'module' }),
    );
    await npm(['install', '--omit=dev', join(scratch, info.filename)]);
  }, 480_000);

  test('ships compiled JavaScript with declarations and the run-time assets, no TypeScript sources', () => {
    expect(files).toContain('dist/cli/main.js');
    expect(files).toContain('dist/vitest/index.d.ts');
    expect(files).toContain('dist/drivers/refchain/sink.py');
    expect(files).toContain('dist/inject/native/afpacket-tx.c');
    expect(files).toContain('fixtures/reference.json');
    expect(files.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))).toEqual([]);
    const installed = readdirSync(join(project, 'node_modules'));
    expect(installed).not.toContain('tsx');
    expect(installed).not.toContain('vitest');
    expect(installed).not.toContain('typescript');
  });

  test('`chainprobe --help` and `--version`', async () => {
    const help = await chainprobe('--help');
    expect(help.exitCode, help.stderr).toBe(0);
    expect(help.stdout).toMatch(/^usage: chainprobe <command>/);
    const version = await chainprobe('--version');
    const { version: expected } = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8'));
    expect(version.stdout).toBe(`chainprobe ${expected}`); // no git commit: the installed copy is no checkout
  });

  test('`chainprobe analyze` passes the golden captures and writes the results document', async () => {
    const r = await chainprobe(
      'analyze',
      '--profile',
      join(REPO, 'fixtures/vpp-testing.json'),
      ...POINTS.flatMap((p) => ['--capture', `${p}=${join(REPO, 'pcaps/vpp-sample', `${p}.pcap`)}`]),
      '--json',
      'out/results.json',
    );
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/verdict: PASS/);
    const doc = JSON.parse(readFileSync(join(project, 'out/results.json'), 'utf8'));
    expect(doc.sent).toBe(100);
    expect(doc.hops.map((h: { seen: number }) => h.seen)).toEqual([100, 100, 100, 100]);
  });

  test('bad input exits 2 with the usage, not a stack', async () => {
    const r = await chainprobe('run', '--pps', '-5');
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/--pps must be a whole number from 1 to/);
    expect(r.stderr).not.toMatch(STACK_LINE);
  });

  test('a vitest suite in the project imports chainprobe/vitest (vitest installed as the peer)', async () => {
    await npm(['install', 'vitest@^4']);
    mkdirSync(join(project, 'test'));
    writeFileSync(
      join(project, 'test/results.test.ts'),
      `import { readFileSync } from 'node:fs';
import { test } from 'vitest';
import { expect, funnel } from 'chainprobe/vitest';
import type { RunResults } from 'chainprobe';

const r = JSON.parse(readFileSync('out/results.json', 'utf8')) as RunResults;

test('the package matchers judge a results document', () => {
  expect(r).toPassVerdict();
  expect(r).toDeliverAtLeast(0.9);
  expect(r).toFragmentWithin(1400);
  expect(() => expect(r).toBlameHop('security')).toThrow(/expected a failing verdict blaming hop "security"/);
  expect(funnel(r)).toMatch(/delivered \\[destination\\] +100 seen/);
});
`,
    );
    const r = await npx(['vitest', 'run'], 120_000);
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/1 passed/);
  }, 240_000);
});
