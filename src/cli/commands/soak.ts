/**
 * `chainprobe soak`: the users' production check as one command — flow export (NetFlow v9, IPFIX, sFlow;
 * 20 exporters each) at 10 000 pps for 300 s through the chain, checked at every hop and by the chain's
 * collectors. It is `chainprobe run` with those defaults, captures cut into 10 s segments analysed and deleted
 * while the run goes (bounded disk, the verdict within seconds of the end), a per-second timeline of
 * delivery and latency, and a live line with the delivery so far.
 */
import { type RunVerb, runVerb } from './run.ts';

const HELP = `usage: chainprobe soak [--profile FILE] [options]

The production check: flow export through the chain for a long time, judged while it runs.

  --protocols LIST    netflow,sflow,ipfix (default; equal shares, NetFlow as v9) — or --traffic MIX with
                      weights, e.g. netflow-v9:50,ipfix:30,sflow:20
  --replay FILE       or: your own capture's UDP payloads (pcap/pcapng, VXLAN decapsulated), cycled
  --exporters N       exporters per protocol (default 20; with --replay: per destination port)
  --pps R             datagrams per second (default 10000)
  --duration S        seconds (default 300)
  --segment S         capture segment length: analysed and deleted during the run (default 10)
  --report DIR        DIR/index.html (per-second timeline, collectors' view, resources), results.json,
                      junit.xml, pcaps/run.pcapng (the first segment of every capture point, as a sample)
  --keep-captures W   on-failure (default: the sample when the verdict fails), always or never
  --json FILE, --profile FILE, --inject KIND, --run-id N, --sa-key SPI=HEX, --wait, --allow-outside-lab
                      as for \`chainprobe run\`

Exit 0 pass, 1 fail, 2 bad input. Ctrl-C stops sending and reports what was captured.`;

const SOAK: RunVerb = {
  name: 'soak',
  help: HELP,
  defaults: {
    pps: '10000',
    duration: '300',
    traffic: 'netflow-v9:1,sflow:1,ipfix:1',
    exporters: '20',
    segment: '10',
    // a passing soak keeps no capture (its first segment alone is ~350 MB at 10 kpps); a failing one its sample
    'keep-captures': 'on-failure',
  },
  // run's other defaults (size, injector) hold
  timeline: { bucketNs: 1_000_000_000n, maxBuckets: 86_400 },
  liveEveryS: 10,
};

export function run(args: string[]): Promise<number> {
  return runVerb(args, SOAK);
}
