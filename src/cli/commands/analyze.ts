/**
 * `chainprobe analyze --profile F --capture NAME=FILE ... [--json FILE] [--report DIR]`
 *
 * Analyses captures taken elsewhere (e.g. VPP pcap traces from the containers): the same journeys and
 * verdicts as `run`, no network needed. Files may be pcap or pcapng, µs or ns, Ethernet, raw IPv4 or
 * Linux cooked, and may hold unrelated traffic. Exit 0 pass, 1 fail, 2 bad input.
 */
import { loadProfile } from '../../chain/profile.ts';
import { UsageError } from '../errors.ts';
import {
  intOption,
  type ParseArgsOptionsConfig,
  parseSaKeys,
  readableFile,
  runCommand,
  writableDir,
  writableFile,
} from '../options.ts';
import { printSummary } from '../summary.ts';

const HELP = `usage: chainprobe analyze --profile FILE --capture NAME=FILE [--capture NAME=FILE ...] [options]

  --profile FILE       chain profile (JSON)
  --capture NAME=FILE  a capture of the profile's capture point NAME (pcap or pcapng); repeat per point
  --json FILE          write the results document here (written for pass and fail)
  --report DIR         write DIR/index.html (report), DIR/junit.xml and DIR/results.json
  --run-id N           analyse only probes of this run (default: the first run id found)
  --injected N         probes the injector sent (default: probes seen at any point)
  --sa-key SPI=HEX     key+salt (40 hex digits) for an SA whose key the profile takes at run time`;

const OPTIONS = {
  profile: { type: 'string' },
  capture: { type: 'string', multiple: true, default: [] },
  json: { type: 'string' },
  report: { type: 'string' },
  'run-id': { type: 'string' },
  injected: { type: 'string' },
  'sa-key': { type: 'string', multiple: true, default: [] },
} satisfies ParseArgsOptionsConfig;

export function run(args: string[]): Promise<number> {
  return runCommand(args, { usage: HELP, options: OPTIONS }, async (values) => {
    if (!values.profile || values.capture.length === 0)
      throw new UsageError('--profile and at least one --capture are required');
    const profile = loadProfile(values.profile);
    const captures = values.capture.map((c) => {
      const m = /^([a-z][a-z0-9_-]*)=(.+)$/.exec(c);
      if (!m) throw new UsageError(`--capture must be NAME=FILE, not "${c}"`);
      return { name: m[1], source: readableFile(`--capture ${m[1]}`, m[2]) };
    });
    const runId =
      values['run-id'] !== undefined ? intOption('--run-id', values['run-id'], 0, 0xffffffff) : undefined;
    const injected =
      values.injected !== undefined
        ? intOption('--injected', values.injected, 0, Number.MAX_SAFE_INTEGER)
        : undefined;
    const runtimeKeys = parseSaKeys(values['sa-key']);
    if (values.json) writableFile('--json', values.json);
    if (values.report) writableDir('--report', values.report);
    // loaded only for a command line that parsed: a usage error answers without them
    const [{ analyzeCaptures }, { writeArtifacts }] = await Promise.all([
      import('../../analyze/analyze.ts'),
      import('../../report/write.ts'),
    ]);
    const results = await analyzeCaptures({
      profile,
      captures,
      runId,
      injected,
      runtimeKeys,
      onProgress: (n) => process.stderr.write(`\ranalysed ${n.toLocaleString('en-US')} packets`),
    });
    const paths = writeArtifacts(results, { jsonPath: values.json, reportDir: values.report });
    printSummary(results, paths);
    return results.verdict === 'pass' ? 0 : 1;
  });
}
