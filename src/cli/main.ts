/**
 * `chainprobe VERB ...`: a thin dispatcher. Each verb lives in src/cli/commands/VERB.ts and exports
 * `run(args: string[]): Promise<number>` (the exit code). Verbs are imported lazily so that `craft`
 * does not load ssh2 or the report renderer.
 *
 * Exit codes: 0 success / verdict pass, 1 verdict fail or operation failed, 2 bad input (usage, profile, files).
 */
import { versionText } from '../version.ts';
import { formatError } from './errors.ts';

type Verb = { summary: string; load: () => Promise<{ run(args: string[]): Promise<number> }> };

const VERBS: Record<string, Verb> = {
  craft: {
    summary: 'write probe-bearing packets as they look at a stage of the chain',
    load: () => import('./commands/craft.ts'),
  },
  chain: {
    summary: "a profile's chain through its driver: up | down | status | fault",
    load: () => import('./commands/chain.ts'),
  },
  run: {
    summary: 'inject probes into a live chain, capture at every hop, analyse, report',
    load: () => import('./commands/run.ts'),
  },
  soak: {
    summary: 'the production check: flow export at 10 kpps for 300 s, analysed while it runs',
    load: () => import('./commands/soak.ts'),
  },
  analyze: {
    summary: 'analyse captures taken elsewhere against a profile',
    load: () => import('./commands/analyze.ts'),
  },
  discover: {
    summary: 'read a running VPP chain (vppctl through each hop) and write its profile',
    load: () => import('./commands/discover.ts'),
  },
  ndr: {
    summary: 'NDR/PDR search per payload size (MLRsearch), latency under load, JSON + HTML',
    load: () => import('./commands/ndr.ts'),
  },
  trend: {
    summary: 'trend page over a benchmark history; exit 1 on a regression',
    load: () => import('./commands/trend.ts'),
  },
  doctor: {
    summary: 'diagnose a VXLAN underlay between two hosts (NAT, blocked UDP, VNI, MTU, L2)',
    load: () => import('./commands/doctor.ts'),
  },
};

function usage(): string {
  const width = Math.max(...Object.keys(VERBS).map((v) => v.length));
  return [
    'usage: chainprobe <command> [options]',
    '',
    ...Object.entries(VERBS).map(([v, d]) => `  ${v.padEnd(width)}  ${d.summary}`),
    '',
    'chainprobe <command> --help shows the options of a command; chainprobe --version (-V) the version.',
  ].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [verb, ...rest] = argv;
  if (!verb || verb === '--help' || verb === '-h' || verb === 'help') {
    console.log(usage());
    return verb ? 0 : 2;
  }
  if (verb === '--version' || verb === '-V') {
    console.log(versionText());
    return 0;
  }
  const entry = VERBS[verb];
  if (!entry) {
    console.error(`chainprobe: unknown command "${verb}"\n\n${usage()}`);
    return 2;
  }
  try {
    const mod = await entry.load();
    return await mod.run(rest);
  } catch (e) {
    const { message, exitCode } = formatError(e);
    console.error(`chainprobe ${verb}: ${message}`);
    return exitCode;
  }
}

/**
 * The process entry (bin/chainprobe.js): runs `main` and sets the exit code. A closed stdout or stderr
 * (`chainprobe chain status | head -1`) is not an error of the command: further output is dropped and
 * the command finishes as it would have — a run still stops its captures and writes its report.
 */
export async function cli(argv: string[]): Promise<void> {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code !== 'EPIPE' && e.code !== 'ERR_STREAM_DESTROYED') throw e;
    });
  }
  process.exitCode = await main(argv);
}
