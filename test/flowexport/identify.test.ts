/**
 * Identification without a probe header: a flow-export datagram keeps its key through the chain's
 * transforms (DNAT, fragmentation, ESP with inner and wire fragments — the transforms' own oracles are
 * tshark/scapy, test/transform); any other UDP is followed by payload fingerprint; identical payloads
 * share a key (duplicates, never two datagrams); the journey counts loss and duplicates by these keys.
 */
import { describe, expect, test } from 'vitest';
import {
  type DatagramKey,
  identifiers,
  identifyDatagram,
  StreamTable,
} from '../../src/analyze/identify/identify.ts';
import { JourneyTracker } from '../../src/analyze/journey.ts';
import { Dissection, dissect, LINKTYPE_IPV4 } from '../../src/codec/stack.ts';
import { createFlowMixSource } from '../../src/traffic/mix.ts';
import { EspSa } from '../../src/transform/esp-sa.ts';
import { decryptFromWire, encryptForWire } from '../../src/transform/esp-wire.ts';
import { fragment, reassemble } from '../../src/transform/fragment.ts';
import { dnat44 } from '../../src/transform/nat44.ts';

const fromHex = (h: string) => new Uint8Array(Buffer.from(h, 'hex'));
const sa = () =>
  new EspSa({
    spi: 1000,
    key: fromHex('a40427262ac0e3d0bdd698d6f7c617ea'),
    salt: fromHex('5520f172'),
    tunnelSrc: '172.20.103.1',
    tunnelDst: '172.20.103.2',
    encapsulation: { kind: 'udp', srcPort: 4500, dstPort: 4500 },
    ttl: 64,
  });

function frames(mix: string, n: number): Uint8Array[] {
  const src = createFlowMixSource({
    mix,
    exporters: 3,
    exporterBaseIp: '10.10.10.100',
    dstIp: '10.10.10.10',
    startMs: 1_764_500_000_000,
  });
  return Array.from({ length: n }, (_, i) => src.next(i).slice());
}

const streams = new StreamTable();
const chain = identifiers();
function keyOf(ip: Uint8Array): DatagramKey | null {
  const out: DatagramKey = { stream: 0, seq: 0, identifier: '' };
  return identifyDatagram(dissect(ip, LINKTYPE_IPV4, new Dissection()), chain, streams, out) ? out : null;
}

describe('flow-export identity', () => {
  const fs = frames('netflow-v5:1,netflow-v9:1,ipfix:1,sflow:1', 200);

  test('every datagram has a distinct key from its own protocol identity', () => {
    const keys = fs.map(keyOf);
    expect(keys.every((k) => k?.identifier === 'flow-export')).toBe(true);
    expect(new Set(keys.map((k) => `${k!.stream}/${k!.seq}`)).size).toBe(fs.length);
    // 12 exporters (4 kinds × 3), one stream each, named after what identifies them
    expect(new Set(keys.map((k) => k!.stream)).size).toBe(12);
    expect([...streams.names.values()]).toContain('10.10.10.103 netflow-v9 source 2304');
  });

  test('the key survives DNAT, fragmentation, and ESP with inner and wire fragments', () => {
    const nat = {
      match: { dstIp: '10.10.10.10', dstPort: 2055 },
      rewrite: { dstIp: '10.20.20.20', dstPort: 9995 },
    };
    for (const f of fs.slice(0, 40)) {
      const before = keyOf(f);
      const natted = dnat44(f, nat);
      const pieces = fragment(natted, { mtuBytes: 300 });
      const joined = reassemble(pieces);
      expect(joined.ok).toBe(true);
      const wire = encryptForWire(sa(), natted, { innerMtuBytes: 400, wireMtuBytes: 300 });
      const back = decryptFromWire(sa(), wire.wireFragments);
      expect(back.inner).toHaveLength(1);
      // after NAT to port 9995 (not bound in the dissector), the protocol's own header still identifies it
      const after = keyOf(joined.ok ? joined.packet : natted);
      const afterEsp = keyOf(back.inner[0]);
      expect(after).toEqual(before);
      expect(afterEsp).toEqual(after);
    }
  });
});

describe('payload fingerprints', () => {
  test('any UDP: NAT and fragmentation keep the key; identical payloads share one, different ones never do', () => {
    const replay = [
      new Uint8Array(900).fill(7),
      new Uint8Array(900).fill(7),
      new Uint8Array(900).fill(8),
      new Uint8Array(33),
    ];
    const src = createFlowMixSource({
      mix: 'replay',
      exporterBaseIp: '10.10.10.100',
      dstIp: '10.10.10.10',
      capture: replay,
      ports: { replay: 5000 },
    });
    const fs = replay.map((_, i) => src.next(i).slice());
    const keys = fs.map(keyOf);
    expect(keys.map((k) => k?.identifier)).toEqual([
      'fingerprint',
      'fingerprint',
      'fingerprint',
      'fingerprint',
    ]);
    expect(keys[0]).toEqual(keys[1]);
    expect(new Set(keys.map((k) => k!.seq)).size).toBe(3);
    const natted = dnat44(fs[2], {
      match: { dstIp: '10.10.10.10', dstPort: 5000 },
      rewrite: { dstIp: '10.20.20.20', dstPort: 6000 },
    });
    const joined = reassemble(fragment(natted, { mtuBytes: 200 }));
    expect(joined.ok && keyOf(joined.packet)).toEqual(keys[2]);
  });
});

describe('journeys by identity', () => {
  test('loss, delivery and duplicates are counted per datagram key at every point', () => {
    const fs = frames('netflow-v9:1,ipfix:1,sflow:1', 90);
    const tracker = new JourneyTracker({ points: ['ingress', 'delivered'], windowNs: 1_000_000_000n });
    const d = new Dissection();
    fs.forEach((f, i) => {
      const t = BigInt(i) * 1_000_000n;
      dissect(f, LINKTYPE_IPV4, d);
      expect(tracker.seeDatagram(d, 0, t)).not.toBeNull();
      if (i % 10 === 3) return; // lost after ingress
      tracker.seeDatagram(d, 1, t + 50_000n);
      if (i === 20) tracker.seeDatagram(d, 1, t + 60_000n); // duplicated
    });
    const s = tracker.finish();
    expect(s.sent).toBe(90);
    expect(s.delivered).toBe(81);
    expect(s.perPoint[1]).toMatchObject({ lostHere: 9, duplicates: 1, reordered: 0 });
    expect(tracker.identified.get('flow-export')).toBe(90 + 81 + 1);
  });
});
