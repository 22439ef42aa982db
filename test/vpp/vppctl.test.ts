/**
 * Which vppctl answers are errors (src/drivers/vpp/vppctl.ts): VPP exits 0 on a failed command and says so
 * on stdout, prefixed with the failed command's path. Answers below are VPP v24.10's own, taken from the
 * test lab (test/vpp/lab.ts) and from the recordings (test/fixtures/vpp).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { vppCliError } from '../../src/drivers/vpp/vppctl.ts';
import { recordedFiles } from './recorded.ts';

describe('vppctl: what is an error answer', () => {
  it('no recorded answer of the real lab is taken for an error (incl. "No such bridge domain", "No packets captured")', () => {
    const files = recordedFiles();
    expect(files.length).toBeGreaterThan(100);
    for (const f of files)
      expect(vppCliError(f.command, readFileSync(f.path, 'utf8')), `${f.path}`).toBeUndefined();
  });

  it.each([
    ['set interface state nosuch0 up', "set interface state: unknown interface `nosuch0 up'\r\n"],
    [
      'ipsec sa add 1000 spi 1 esp crypto-alg aes-gcm-128 crypto-key zz',
      "ipsec sa: parse error: 'crypto-key zz'\r\n",
    ],
    ['create host-interface v2 name sec0', 'create host-interface: Invalid interface name\r\n'],
    [
      'set interface ip address host-vx0 bogus',
      "set interface ip address: expected IP4/IP6 address/length `bogus'\r\n",
    ],
    ['show nosuchthing', "show: unknown input `nosuchthing'\r\n"],
    ['nat44 add address 1.2.3', "nat44 add address: unknown input '1.2.3'\r\n"],
    ['sh int nosuch0', "show interface: unknown input `nosuch0'\r\n"],
  ])('"%s" → error', (command, answer) => {
    expect(vppCliError(command, answer)).toBe(answer.trimEnd());
  });
});
