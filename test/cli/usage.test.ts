/**
 * The command line as a new user meets it: every command answers bad input with exit 2, a message naming
 * the option and the command's usage — never a stack trace, a hang, or a failure after a run started.
 * None of these cases needs a chain: each must be refused before anything starts.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, test, vi } from 'vitest';
import { main } from '../../src/cli/main.ts';

const dir = mkdtempSync(join(tmpdir(), 'cp-usage-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
/** The real command in its own process, as bin/chainprobe.js runs it. */
const cli = (...args: string[]) =>
  execa('node', ['bin/chainprobe.js', ...args], { reject: false, timeout: 60_000 });

/**
 * The same dispatcher in this process, for the long table of bad command lines: one node start per case
 * costs seconds on a loaded machine, and what is checked (exit code, stderr, stdout) is main()'s.
 */
async function inProcess(...args: string[]) {
  const out = { stdout: '', stderr: '', exitCode: -1 };
  const log = vi.spyOn(console, 'log').mockImplementation((...a) => void (out.stdout += `${a.join(' ')}\n`));
  const error = vi
    .spyOn(console, 'error')
    .mockImplementation((...a) => void (out.stderr += `${a.join(' ')}\n`));
  try {
    out.exitCode = await main(args);
  } finally {
    log.mockRestore();
    error.mockRestore();
  }
  return out;
}
const STACK_LINE = /^\s+at .+:\d+:\d+\)?$/m;

type Outcome = { stdout: string; stderr: string; exitCode?: number };

async function refused(
  args: string[],
  message: RegExp,
  usage: RegExp,
  run: (...args: string[]) => Promise<Outcome> = cli,
) {
  const r = await run(...args);
  expect(r.exitCode, r.stderr).toBe(2);
  expect(r.stderr).not.toMatch(STACK_LINE);
  expect(r.stderr).toMatch(message);
  expect(r.stderr).toMatch(usage);
  expect(r.stdout).toBe('');
  return r;
}

const RUN = /usage: chainprobe run/;
const SOAK = /usage: chainprobe soak/;
const CRAFT = /usage: chainprobe craft/;
const ANALYZE = /usage: chainprobe analyze/;
const NDR = /usage: chainprobe ndr/;
const DOCTOR = /usage: chainprobe doctor/;
const TREND = /usage: chainprobe trend HISTORY/;
const HISTORY = 'test/benchmark/fixtures/refchain-history.jsonl';
const CHAIN = /usage:\n {2}chainprobe chain up/;
const aFile = join(dir, 'a-file');
writeFileSync(aFile, '');
const craftWire = [
  'craft',
  '--profile',
  'fixtures/vpp-testing.json',
  '--stage',
  'wire',
  '--out',
  join(dir, 'c.pcap'),
];
const analyzeWire = [
  'analyze',
  '--profile',
  'fixtures/vpp-testing.json',
  '--capture',
  'wire=pcaps/vpp-sample/wire.pcap',
];

describe('bad command lines exit 2 with the option named and the usage', () => {
  // the hook's cases (and what a new user types first), in a process of their own
  test.each([
    [['run', '--profil', 'x'], RUN],
    [['craft', '--profil', 'x'], CRAFT],
    [['analyze', '--captur', 'x'], ANALYZE],
    [['run', '--pps', '-5'], RUN],
  ] as [string[], RegExp][])('process: chainprobe %s', async (args, usage) => {
    await refused(args, /--p(rofil|ps)|--captur/, usage);
  });

  test.each([
    // a misspelt option, with the likely one suggested
    [['run', '--profil', 'x'], /unknown option --profil \(did you mean --profile\?\)/, RUN],
    [['craft', '--profil', 'x'], /unknown option --profil \(did you mean --profile\?\)/, CRAFT],
    [['analyze', '--captur', 'x'], /unknown option --captur \(did you mean --capture\?\)/, ANALYZE],
    // a negative number, a missing value, a stray argument, a value for a flag, an unknown choice
    [['run', '--pps', '-5'], /--pps must be a whole number from 1 to \d+, not "-5"/, RUN],
    [[...craftWire, '--count', '-1'], /--count must be a whole number from 1 to \d+, not "-1"/, CRAFT],
    [['run', '--count'], /--count needs a value/, RUN],
    [['analyze', 'pcaps/x.pcap'], /unexpected argument "pcaps\/x.pcap"/, ANALYZE],
    [['run', '--help=yes'], /--help takes no value/, RUN],
    [['run', '--inject', 'carrier-pigeon'], /--inject must be one of l2, raw, tcpreplay/, RUN],
    [['run', '--traffic', 'netflow-v9:x'], /--traffic: traffic mix "netflow-v9:x": expected KIND/, RUN],
    [['run', '--exporters', '3'], /--exporters needs --traffic/, RUN],
    // the soak: run's options with the production defaults
    [['soak', '--protocols', 'netflow,jflow'], /--protocols: "jflow" is not one of netflow/, SOAK],
    [['soak', '--protocols', 'sflow', '--traffic', 'ipfix'], /--traffic or --protocols, not both/, SOAK],
    [['soak', '--segment', '0'], /--segment must be a number from 1 to 3600, not "0"/, SOAK],
    [['soak', '--count', '5', '--duration', '3'], /give --count or --duration, not both/, SOAK],
    // missing inputs, unreadable captures
    [['craft', '--stage', 'wire'], /--profile, --stage and --out are required/, CRAFT],
    [
      [...analyzeWire, '--capture', `decap=${join(dir, 'none.pcap')}`],
      /--capture decap: no such file/,
      ANALYZE,
    ],
    [[...analyzeWire, '--capture', `decap=${dir}`], /--capture decap: .* is not a file/, ANALYZE],
    // ndr, chain, doctor and trend share the one option parser
    [['ndr', '--profil', 'x'], /unknown option --profil \(did you mean --profile\?\)/, NDR],
    [['ndr', '--size', '100', '--loss', '-1'], /--profile is required/, NDR],
    [['ndr', '--profile', 'x', '--inject', 'pigeon'], /--inject must be one of l2, raw, tcpreplay/, NDR],
    [['ndr', '--profile', 'x', '--loss', '-1'], /--loss must be a number from 0 to 0.5, not "-1"/, NDR],
    [['ndr', '--profile', 'x', '--final-trial', '1h'], /--final-trial must be a duration like 10s/, NDR],
    [['chain', 'up', '--timout', '5'], /unknown option --timout \(did you mean --timeout\?\)/, CHAIN],
    [
      ['chain', 'up', '--timeout', '-5'],
      /--timeout must be a positive number of seconds \(got "-5"\)/,
      CHAIN,
    ],
    [['chain', 'status', 'extra'], /unexpected argument "extra"/, CHAIN],
    [['chain', 'fault', '--hop', 'nat'], /give exactly one of --drop, --rate/, CHAIN],
    [
      ['chain', 'fault', '--drop', '101', '--hop', 'security'],
      /--drop takes an integer percentage 0..100/,
      CHAIN,
    ],
    [['chain', 'frobnicate'], /unknown chain command "frobnicate"/, CHAIN],
    [
      ['ndr', '--profile', 'fixtures/reference.json', '--json', '/proc/ndr.json'],
      /--json \/proc\/ndr.json: cannot write/,
      NDR,
    ],
    [['ndr', '--profile', 'fixtures/reference.json', '--history', dir], /--history .*: is a directory/, NDR],
    [['doctor', '--a', 'netns:x', '--bb', 'netns:y'], /unknown option --bb \(did you mean --b\?\)/, DOCTOR],
    [['doctor', '--a', 'netns:x'], /--a and --b are required/, DOCTOR],
    [
      ['trend', HISTORY, '--min-chnage', '0.1'],
      /unknown option --min-chnage \(did you mean --min-change\?\)/,
      TREND,
    ],
    [['trend', HISTORY, '--min-change', '-1'], /--min-change must be a number from 0 to 10, not "-1"/, TREND],
    [['trend', HISTORY, HISTORY], /give exactly one HISTORY file/, TREND],
    // output paths that cannot be written: refused before the run (no hang under /proc, no raw ENOTDIR)
    [['run', '--report', '/proc/chainprobe/r1'], /--report \/proc\/chainprobe\/r1: cannot write/, RUN],
    [['run', '--report', join(aFile, 'r1')], /--report .*: .*a-file exists and is not a directory/, RUN],
    [['run', '--json', '/proc/results.json'], /--json \/proc\/results.json: cannot write in \/proc/, RUN],
    [['run', '--json', dir], /--json .*: is a directory/, RUN],
    [
      [...analyzeWire, '--json', join(aFile, 'r.json')],
      /--json .*: .*a-file exists and is not a directory/,
      ANALYZE,
    ],
  ] as [string[], RegExp, RegExp][])('chainprobe %s', async (args, message, usage) => {
    await refused(args, message, usage, inProcess);
  });
});

test('`chain up --collectors` names the collector families it knows (before anything is torn down)', async () => {
  const r = await inProcess('chain', 'up', '--collectors', 'bogus');
  expect(r.exitCode).toBe(2);
  expect(r.stderr).toMatch(/E_CONFIG: collector family "bogus": expected one of nfdump, pmacct/);
  expect(r.stderr).not.toMatch(STACK_LINE);
});

describe('payload sizes are checked against what the profile frame can hold', () => {
  test('`run` without --profile uses the reference chain profile and refuses a payload it cannot carry', async () => {
    const report = join(dir, 'never-written');
    const r = await refused(
      ['run', '--size', '100,65507', '--report', report],
      /--size must be a whole number from 32 to (\d+) \(the most this profile's encapsulations leave room for/,
      /usage: chainprobe run/,
    );
    // reference chain: ESP wraps inner fragments, so the VXLAN ingress frame is what limits the payload
    const max = Number(/from 32 to (\d+)/.exec(r.stderr)![1]);
    expect(max).toBeGreaterThan(65_000);
    expect(max).toBeLessThan(65_507);
    expect(existsSync(report), 'refused before anything was created').toBe(false);
  });

  test('the largest size `craft` accepts fills an IPv4 datagram at ESP (tshark), one more is refused', async () => {
    const base = ['craft', '--profile', 'fixtures/vpp-testing.json', '--stage', 'esp'];
    const tooBig = await refused(
      [...base, '--size', '65507', '--out', join(dir, 'x.pcap')],
      /--size/,
      /usage/,
    );
    const max = Number(/from 32 to (\d+)/.exec(tooBig.stderr)![1]);
    const out = join(dir, 'esp-max.pcap');
    const ok = await cli(...base, '--size', String(max), '--out', out);
    expect(ok.exitCode, ok.stderr).toBe(0);
    const len = Number((await execa('tshark', ['-r', out, '-T', 'fields', '-e', 'ip.len'])).stdout.trim());
    // AES-GCM ESP pads to 4 bytes: the largest payload leaves less than 4 bytes unused
    expect(len).toBeLessThanOrEqual(65_535);
    expect(len).toBeGreaterThan(65_535 - 4);
    await refused(
      [...base, '--size', String(max + 1), '--out', out],
      /--size must be a whole number from 32 to/,
      /usage/,
    );
  });
});

describe('version and closed pipes', () => {
  test('--version and -V: package version and the checkout commit', async () => {
    const { version } = JSON.parse(readFileSync('package.json', 'utf8'));
    const commit = execFileSync('git', ['rev-parse', '--short=12', 'HEAD'], { encoding: 'utf8' }).trim();
    for (const flag of ['--version', '-V']) {
      const r = await cli(flag);
      expect(r.exitCode).toBe(0);
      expect(r.stdout).toMatch(
        new RegExp(`^chainprobe ${version.replace(/\./g, '\\.')} \\(git ${commit}(-dirty)?\\)$`),
      );
    }
  });

  test('a reader that closes the pipe early (| head -1) is not an error', async () => {
    // `true` exits before chainprobe writes, so every write meets a closed pipe (EPIPE)
    for (const cmd of ['run --help', 'chain status', '--help']) {
      const r = await execa(
        'bash',
        ['-c', `node bin/chainprobe.js ${cmd} | true; echo "exit \${PIPESTATUS[0]}" >&2`],
        {
          reject: false,
          timeout: 60_000,
        },
      );
      expect(r.stderr, cmd).not.toMatch(/EPIPE|Unhandled 'error' event/);
      expect(r.stderr, cmd).toMatch(/exit [01]$/);
    }
  });
});
