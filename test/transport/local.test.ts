/**
 * local and netns transports against real processes; quoting round-trips through a real /bin/sh.
 * Needs root and iproute2.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChainprobeError } from '../../src/errors.ts';
import { liveProcesses, openTransport, shellCommand } from '../../src/transport/index.ts';
import type { Transport } from '../../src/transport/transport.ts';
import { deleteNamespace, HOSTILE, namespacePids, sh } from './lab.ts';

const NS = 'cpt-local';

async function expectCode(p: Promise<unknown>, code: string): Promise<ChainprobeError> {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(ChainprobeError);
  expect((e as ChainprobeError).code, (e as Error).message).toBe(code);
  return e as ChainprobeError;
}

/** Gone or a zombie waiting for init to reap it (it can no longer run). */
function isDead(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.startsWith('Z') ?? true;
  } catch {
    return true;
  }
}

describe('shellCommand', () => {
  it('round-trips hostile arguments through sh -c', async () => {
    const local = await openTransport({ kind: 'local' });
    const r = await local.run(['sh', '-c', `${shellCommand(['printf', '%s\\n', ...HOSTILE])}`]);
    expect(r.stdout).toBe(HOSTILE.map((s) => `${s}\n`).join(''));
    expect(() => shellCommand(['a\0b'])).toThrow(ChainprobeError);
  });
});

for (const kind of ['local', 'netns'] as const) {
  describe(`${kind} transport`, () => {
    let t: Transport;
    beforeAll(async () => {
      if (kind === 'netns') {
        await deleteNamespace(NS);
        await sh(['ip', 'netns', 'add', NS]);
      }
      t = await openTransport(kind === 'local' ? { kind } : { kind, namespace: NS });
    });
    afterAll(async () => {
      await t?.close();
      if (kind === 'netns') await deleteNamespace(NS);
    });

    it('runs with stdout, stderr, exit code and input', async () => {
      expect(t.description).toBe(kind === 'local' ? 'local' : `netns ${NS}`);
      expect(await t.run(['sh', '-c', 'echo out; echo err >&2; exit 7'])).toEqual({
        stdout: 'out\n',
        stderr: 'err\n',
        exitCode: 7,
      });
      expect((await t.run(['cat'], { input: 'x y\n' })).stdout).toBe('x y\n');
      expect((await t.run(['printf', '%s|', ...HOSTILE])).stdout).toBe(HOSTILE.map((s) => `${s}|`).join(''));
      if (kind === 'netns') expect((await t.run(['ip', '-o', 'link'])).stdout).not.toMatch(/eth0|cpt-cap/); // really inside
    });

    it('times out with E_TIMEOUT and kills the whole process group', async () => {
      const e = await expectCode(
        t.run(['sh', '-c', 'sleep 300 & echo $!; wait'], { timeoutMs: 500 }),
        'E_TIMEOUT',
      );
      const child = Number(String(e.details?.stdout).trim());
      expect(child).toBeGreaterThan(0);
      expect(isDead(child)).toBe(true);
    });

    it('spawns, streams, signals the group and reaps', async () => {
      const p = t.spawn(['sh', '-c', 'sleep 300 & echo $!; wait']);
      const pid = await new Promise<number>((resolve) =>
        p.stdout.once('data', (c: Buffer) => resolve(Number(c.toString().trim()))),
      );
      p.signal('SIGTERM');
      expect(await p.exited).toEqual({ exitCode: null, signal: 'SIGTERM' });
      expect(isDead(pid)).toBe(true);
      if (kind === 'netns') expect((await namespacePids(NS)).filter((x) => !isDead(x))).toEqual([]);
      const q = t.spawn(['cat'], { stdin: true });
      let got = '';
      q.stdout.on('data', (c: Buffer) => (got += c.toString()));
      q.stdin!.end('piped');
      expect(await q.exited).toEqual({ exitCode: 0, signal: null });
      expect(got).toBe('piped');
      expect(liveProcesses()).toEqual([]);
    });

    it('a missing command is E_MISSING_TOOL', async () => {
      await expectCode(t.run(['cpt-no-such-tool']), 'E_MISSING_TOOL');
    });
  });
}

it('a missing namespace is E_UNREACHABLE naming it', async () => {
  const e = await expectCode(openTransport({ kind: 'netns', namespace: 'cpt-absent' }), 'E_UNREACHABLE');
  expect(e.message).toMatch(/cpt-absent/);
});
