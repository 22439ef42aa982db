/**
 * `chainprobe run --profile F [--count N | --duration S] [--pps R] [--size B[,B...]] [--inject l2|raw|tcpreplay]
 *                 [--report DIR] [--json FILE]`
 *
 * Injects probes into a live chain, captures at every capture point, follows every probe and writes the
 * verdict. Exit 0 pass, 1 fail, 2 bad input. Ctrl-C stops injection and cleans up every process it started.
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadProfile } from '../../chain/profile.ts';
import { writeArtifacts } from '../../report/write.ts';
import { type InjectorKind, KEEP_CAPTURES, type KeepCaptures, runChain } from '../../run/run.ts';
import { resolveRuntimeKeys } from '../../run/runtime-keys.ts';
import { holdSignalCleanup } from '../../transport/registry.ts';
import { UsageError } from '../errors.ts';
import { intOption, numberOption, parseSaKeys } from '../options.ts';
import { printSummary } from '../summary.ts';

const HELP = `usage: chainprobe run --profile FILE [options]

  --profile FILE      chain profile (JSON); fixtures/reference.json is the embedded reference chain
  --count N           probes to send (default 1000)
  --duration S        or: send for S seconds at --pps (count = pps × S)
  --pps R             probe rate (default 1000)
  --size B[,B...]     inner UDP payload bytes; probes cycle through the list (default 100; jumbo: 8000)
  --inject KIND       l2 (AF_PACKET, default), raw (raw socket, IP_HDRINCL) or tcpreplay
  --report DIR        write DIR/index.html, DIR/junit.xml, DIR/results.json and the captures (DIR/pcaps)
  --json FILE         write the results document here
  --run-id N          probe run id (default random)
  --keep-captures W   always (default), on-failure or never: keep DIR/pcaps/run.pcapng
  --sa-key SPI=HEX    ESP key+salt for runtime-keyed SAs (default: read from the running reference chain)
  --allow-outside-lab send even to addresses outside the profile's labPrefixes (never needed for the lab)`;

export async function run(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      profile: { type: 'string' },
      count: { type: 'string' },
      duration: { type: 'string' },
      pps: { type: 'string', default: '1000' },
      size: { type: 'string', default: '100' },
      inject: { type: 'string', default: 'l2' },
      report: { type: 'string' },
      json: { type: 'string' },
      'run-id': { type: 'string' },
      'keep-captures': { type: 'string', default: 'always' },
      'sa-key': { type: 'string', multiple: true, default: [] },
      'allow-outside-lab': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  if (!values.profile) throw new UsageError(`--profile is required\n\n${HELP}`);
  if (values.count && values.duration) throw new UsageError('give --count or --duration, not both');
  if (!['l2', 'raw', 'tcpreplay'].includes(values.inject))
    throw new UsageError(`--inject must be l2, raw or tcpreplay, not "${values.inject}"`);
  if (!KEEP_CAPTURES.includes(values['keep-captures'] as KeepCaptures))
    throw new UsageError(
      `--keep-captures must be ${KEEP_CAPTURES.join(', ')}, not "${values['keep-captures']}"`,
    );
  const profile = loadProfile(values.profile);
  const pps = intOption('--pps', values.pps, 1, 10_000_000);
  const sizes = values.size.split(',').map((s) => intOption('--size', s, 32, 65_507));
  const reportDir = values.report ?? join('reports', `run-${new Date().toISOString().replace(/[:.]/g, '-')}`);
  const controller = new AbortController();
  // First Ctrl-C: stop injecting and report what was captured. Second: stop everything now.
  const releaseProcesses = holdSignalCleanup();
  const onSigint = () => {
    if (!controller.signal.aborted) {
      process.stderr.write(
        '\ninterrupted: stopping injection, analysing what was captured (Ctrl-C again to quit)…\n',
      );
      controller.abort();
      return;
    }
    releaseProcesses();
    process.off('SIGINT', onSigint);
    process.kill(process.pid, 'SIGINT');
  };
  process.on('SIGINT', onSigint);
  try {
    const outcome = await runChain({
      profile,
      count: values.count ? intOption('--count', values.count, 1, 1_000_000_000) : undefined,
      durationS: values.duration ? numberOption('--duration', values.duration, 0.001, 86_400) : undefined,
      pps,
      payloadBytes: sizes,
      injector: values.inject as InjectorKind,
      runtimeKeys: resolveRuntimeKeys(profile, parseSaKeys(values['sa-key'])),
      captureDir: join(reportDir, 'pcaps'),
      runId: values['run-id'] ? intOption('--run-id', values['run-id'], 0, 0xffffffff) : undefined,
      allowOutsideLab: values['allow-outside-lab'],
      keepCaptures: values['keep-captures'] as KeepCaptures,
      commandLine: ['chainprobe', 'run', ...args],
      signal: controller.signal,
      log: (l) => console.error(l),
      onProgress: progressPrinter(),
    });
    const paths = writeArtifacts(outcome.results, { jsonPath: values.json, reportDir });
    printSummary(outcome.results, {
      ...paths,
      ...(outcome.pcapng ? { pcapng: outcome.pcapng } : {}),
    } as never);
    return outcome.results.verdict === 'pass' ? 0 : 1;
  } finally {
    process.off('SIGINT', onSigint);
    releaseProcesses();
  }
}

/** On a terminal, one line rewritten in place; in logs (CI), a line per tenth of the run. */
function progressPrinter(): (p: { sent: number; total: number; elapsedNs: number }) => void {
  let lastTenth = -1;
  return (p) => {
    const text = `sent ${p.sent}/${p.total} (${Math.round(p.sent / (p.elapsedNs / 1e9 || 1))} pps)`;
    if (process.stderr.isTTY) {
      process.stderr.write(`\r${text}   `);
      return;
    }
    const tenth = Math.floor((10 * p.sent) / Math.max(1, p.total));
    if (tenth > lastTenth) {
      lastTenth = tenth;
      process.stderr.write(`${text}\n`);
    }
  };
}
