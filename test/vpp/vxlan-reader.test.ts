/** doctor's VPP reader over `vppctl` answers recorded from the real v24.10 lab (test/fixtures/vpp). */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { vppVxlanReader } from '../../src/drivers/vpp/vxlan-reader.ts';
import type { Transport } from '../../src/transport/transport.ts';

/** A place whose vppctl answers what the lab's vxlan instance answered when recorded. */
const recordedVxlanHop: Transport = {
  description: 'recorded vp-vx',
  async run(argv) {
    const cli = argv
      .slice(3)
      .join(' ')
      .replace(/^show /, '')
      .replace(/[^a-z0-9]+/gi, '-');
    return {
      stdout: readFileSync(`test/fixtures/vpp/v24.10/healthy/before/vx/${cli}.txt`, 'utf8'),
      stderr: '',
      exitCode: 0,
    };
  },
  spawn() {
    throw new Error('not used');
  },
  async close() {},
};

describe('doctor: VPP VXLAN reader', () => {
  it('reads the vxlan hop: VNI, ends, port, BVI MAC and address; VPP matches tunnels by source', async () => {
    expect(vppVxlanReader.matchesBySource).toBe(true);
    const [e] = await vppVxlanReader.read(recordedVxlanHop);
    expect(e).toMatchObject({
      device: 'vxlan_tunnel0',
      vni: 100,
      local: '172.20.100.10',
      remote: '172.20.100.1',
      dstPort: 4789,
      bridgeMacs: ['02:00:00:0a:0a:01'],
      innerAddresses: ['10.10.10.1'],
    });
  });
});
