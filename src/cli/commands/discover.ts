/**
 * `chainprobe discover --hop NAME=PLACE ... --inject PLACE:IF --out FILE [--with-keys]`
 *
 * From "the VPP chain is up" to a profile: reads each VPP hop through its transport (vppctl), maps what it
 * finds (src/drivers/vpp/discover.ts), validates the profile and writes it. What it could not map is
 * printed, never guessed. SA keys go into the profile only with --with-keys, and then the file is 0600;
 * they are never printed.
 *
 * PLACE: docker:CONTAINER[:CLI_SOCKET] | netns:NAME[:CLI_SOCKET] | ssh:USER@HOST[:CLI_SOCKET] | local[:CLI_SOCKET]
 */
import { writeFileSync } from 'node:fs';
import type { TransportSpec } from '../../chain/profile.ts';
import { DiscoverError, discoverChain } from '../../drivers/vpp/discover.ts';
import { Vppctl } from '../../drivers/vpp/vppctl.ts';
import { openTransport } from '../../transport/index.ts';
import type { Transport } from '../../transport/transport.ts';
import { UsageError } from '../errors.ts';
import { type ParseArgsOptionsConfig, runCommand, writableFile } from '../options.ts';

const HELP = `usage: chainprobe discover --hop NAME=PLACE [--hop NAME=PLACE ...] --inject PLACE:IF --out FILE [options]

  --hop NAME=PLACE    a VPP hop, in chain order; PLACE is docker:CONTAINER[:CLI_SOCKET],
                      netns:NAME[:CLI_SOCKET], ssh:USER@HOST[:CLI_SOCKET] or local[:CLI_SOCKET]
                      (CLI_SOCKET default /run/vpp/cli.sock)
  --inject PLACE:IF   where traffic is injected from, and the interface (e.g. netns:vp-gen:gen0)
  --out FILE          write the profile here
  --with-keys         put the ESP keys VPP holds into the profile (file mode 0600; never printed);
                      otherwise the profile reads them from VPP at run time
  --vppctl PATH       the vppctl binary where the hops run (default vppctl)
  --known-hosts FILE  known_hosts for ssh: places (host keys are always verified)
  --name NAME         the profile's name (default discovered)`;

const OPTIONS = {
  hop: { type: 'string', multiple: true, default: [] },
  inject: { type: 'string' },
  out: { type: 'string' },
  'with-keys': { type: 'boolean', default: false },
  vppctl: { type: 'string', default: 'vppctl' },
  'known-hosts': { type: 'string' },
  name: { type: 'string', default: 'discovered' },
} satisfies ParseArgsOptionsConfig;

const DEFAULT_CLI = '/run/vpp/cli.sock';

/** `kind:rest[:socket]` → a transport and the text after it. */
function parsePlace(
  option: string,
  raw: string,
  knownHosts?: string,
): { transport: TransportSpec; rest?: string } {
  const [kind, ...parts] = raw.split(':');
  const rest = parts.length ? parts.slice(1).join(':') || undefined : undefined;
  const first = parts[0];
  switch (kind) {
    case 'local':
      return { transport: { kind: 'local' }, rest: parts.join(':') || undefined };
    case 'netns':
      if (!first) break;
      return { transport: { kind: 'netns', namespace: first }, rest };
    case 'docker':
      if (!first) break;
      return { transport: { kind: 'docker', container: first }, rest };
    case 'ssh': {
      const m = /^([^@]+)@(.+)$/.exec(first ?? '');
      if (!m) break;
      if (!knownHosts)
        throw new UsageError(
          `${option} ${raw}: ssh places need --known-hosts (host keys are always verified)`,
        );
      return {
        transport: {
          kind: 'ssh',
          username: m[1],
          host: m[2],
          port: 22,
          knownHostsPath: knownHosts,
          sudo: false,
          readyTimeoutMs: 10_000,
        },
        rest,
      };
    }
  }
  throw new UsageError(
    `${option} "${raw}" is not a place: docker:CONTAINER, netns:NAME, ssh:USER@HOST or local (each optionally :CLI_SOCKET)`,
  );
}

export function run(args: string[]): Promise<number> {
  return runCommand(args, { usage: HELP, options: OPTIONS }, async (values) => {
    if (values.hop.length === 0) throw new UsageError('at least one --hop NAME=PLACE is needed');
    if (!values.inject) throw new UsageError('--inject PLACE:IF is needed (where traffic enters the chain)');
    if (!values.out) throw new UsageError('--out FILE is needed');
    writableFile('--out', values.out);
    const knownHosts = values['known-hosts'];
    const hops = values.hop.map((h) => {
      const m = /^([a-z][a-z0-9_-]*)=(.+)$/.exec(h);
      if (!m) throw new UsageError(`--hop must be NAME=PLACE (a lower-case name), not "${h}"`);
      const place = parsePlace('--hop', m[2], knownHosts);
      return {
        name: m[1],
        transport: place.transport,
        vpp: { cli: place.rest ?? DEFAULT_CLI, vppctl: values.vppctl },
      };
    });
    const inj = parsePlace('--inject', values.inject, knownHosts);
    if (!inj.rest) throw new UsageError(`--inject ${values.inject}: name the interface (PLACE:IF)`);

    const opened: Transport[] = [];
    try {
      const ctl = new Map<string, Vppctl>();
      for (const h of hops) {
        const t = await openTransport(h.transport);
        opened.push(t);
        ctl.set(h.name, new Vppctl(h.name, t, h.vpp));
      }
      const injT = await openTransport(inj.transport);
      opened.push(injT);
      const link = await injT.run(['ip', '-j', 'link', 'show', 'dev', inj.rest]);
      const mac =
        link.exitCode === 0 ? (JSON.parse(link.stdout)[0]?.address as string | undefined) : undefined;
      if (!mac) throw new UsageError(`--inject: no interface "${inj.rest}" at ${injT.description}`);
      const started = Date.now();
      const found = await discoverChain({
        hops,
        injector: { transport: inj.transport, interface: inj.rest, mac },
        withKeys: values['with-keys'],
        read: (hop, command) => ctl.get(hop)!.exec(command),
      });
      found.profile.name = values.name;
      writeFileSync(values.out, `${JSON.stringify(found.profile, null, 2)}\n`, {
        mode: values['with-keys'] ? 0o600 : 0o644,
      });
      console.log(
        `discovered ${hops.length} VPP hops in ${Date.now() - started} ms → ${values.out}${values['with-keys'] ? ' (with ESP keys: mode 0600)' : ''}`,
      );
      for (const n of found.notes) console.log(`  note: ${n}`);
      for (const u of found.unmapped) console.log(`  not mapped: ${u}`);
      return 0;
    } catch (e) {
      if (e instanceof DiscoverError) {
        console.error(`chainprobe discover: ${e.message}`);
        return 1;
      }
      throw e;
    } finally {
      await Promise.allSettled(opened.map((t) => t.close()));
    }
  });
}
