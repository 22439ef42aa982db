/**
 * ESP AES-GCM-128 throughput on one core: encrypt + decrypt of a 1400-byte inner packet (NAT-T tunnel SA),
 * against scapy's SecurityAssociation doing the same in the same run (~2 s Python loop, /usr/bin/python3).
 * The figures name the AES-GCM backend (native addon or node:crypto, see src/transform/native-gcm.ts); with the
 * addon loaded, one more figure compares it with the node:crypto fallback measured in the same run.
 */
import { execa } from 'execa';
import { EspSa, type EspSaOptions, espCryptoBackend } from '../src/transform/esp-sa.ts';
import { type BenchFigure, withPeer } from './figure.ts';

const INNER_BYTES = 1400;

function innerPacket(): Uint8Array {
  const p = new Uint8Array(INNER_BYTES);
  p.set([
    0x45,
    0,
    INNER_BYTES >> 8,
    INNER_BYTES & 0xff,
    0,
    1,
    0,
    0,
    64,
    17,
    0,
    0,
    10,
    10,
    10,
    5,
    172,
    20,
    102,
    10,
  ]);
  for (let i = 20; i < p.length; i++) p[i] = i & 0xff;
  return p;
}

function rate(durationMs: number, step: () => void): number {
  for (let i = 0; i < 2000; i++) step(); // warm-up (JIT, OpenSSL)
  const t0 = performance.now();
  let n = 0;
  while (performance.now() - t0 < durationMs) {
    for (let i = 0; i < 500; i++) step();
    n += 500;
  }
  return n / ((performance.now() - t0) / 1000);
}

const SCAPY = `
import time, logging
logging.getLogger("scapy").setLevel(logging.ERROR)
from scapy.all import IP, UDP, Raw
from scapy.layers.ipsec import SecurityAssociation, ESP
sa = SecurityAssociation(ESP, spi=1000, crypt_algo='AES-GCM', crypt_key=bytes(range(20)),
                         tunnel_header=IP(src='172.20.103.1', dst='172.20.103.2'), nat_t_header=UDP(sport=4500, dport=4500))
p = IP(bytes(IP(src='10.10.10.5', dst='172.20.102.10')/UDP(sport=40000, dport=2055)/Raw(bytes(1372))))
n = 0; t0 = time.perf_counter()
while time.perf_counter() - t0 < 2.0:
    e = sa.encrypt(p)
    sa.decrypt(e)
    n += 1
print(n / (time.perf_counter() - t0))
`;

function saPair(backend: EspSaOptions['backend']): { tx: EspSa; rx: EspSa } {
  const o = (): EspSaOptions => ({
    spi: 1000,
    key: new Uint8Array(16).fill(7),
    salt: new Uint8Array(4).fill(9),
    tunnelSrc: '172.20.103.1',
    tunnelDst: '172.20.103.2',
    encapsulation: { kind: 'udp', srcPort: 4500, dstPort: 4500 },
    ttl: 64,
    backend,
  });
  return { tx: new EspSa(o()), rx: new EspSa(o()) };
}

export default async (): Promise<BenchFigure[]> => {
  const { tx: sa, rx } = saPair('auto');
  const backend = sa.backend;
  const backendNote =
    backend === 'native'
      ? 'backend: native addon (one OpenSSL GCM context per SA)'
      : `backend: node:crypto (${espCryptoBackend.reason ?? "backend: 'node:crypto'"})`;
  const inner = innerPacket();
  const outer = sa.encrypt(inner);
  const pairs = rate(2000, () => rx.decrypt(sa.encrypt(inner)));
  const enc = rate(1000, () => sa.encrypt(inner));
  const dec = rate(1000, () => rx.decrypt(outer));
  let fallbackPairs = 0;
  if (backend === 'native') {
    const fb = saPair('node:crypto');
    fallbackPairs = rate(2000, () => fb.rx.decrypt(fb.tx.encrypt(inner)));
  }

  let scapyPairs = 0;
  let scapyNote = '';
  try {
    const r = await execa('/usr/bin/python3', ['-c', SCAPY], { timeout: 60_000 });
    scapyPairs = Number(r.stdout.trim().split('\n').pop());
  } catch (e) {
    scapyNote = `scapy peer failed: ${(e as Error).message.split('\n')[0]}`;
  }
  const peer =
    scapyPairs > 0 ? { name: 'scapy SecurityAssociation encrypt+decrypt', value: scapyPairs } : undefined;
  const pair = withPeer({
    group: 'esp',
    name: `AES-GCM-128 NAT-T encrypt+decrypt, ${INNER_BYTES}-byte inner packet, 1 core`,
    unit: 'packets/s',
    value: pairs,
    peer,
    target: '>= 150k packets/s',
    notes: `${backendNote}; ${
      scapyNote ||
      `= ${Math.round(2 * pairs).toLocaleString('en-US')} ESP operations/s (encrypt and decrypt counted separately)`
    }`,
  });
  pair.pass = pairs >= 150_000;
  const figures: BenchFigure[] = [pair];
  if (fallbackPairs > 0)
    figures.push(
      withPeer({
        group: 'esp',
        name: `native addon vs node:crypto fallback, encrypt+decrypt, ${INNER_BYTES}-byte inner`,
        unit: 'packets/s',
        value: pairs,
        peer: { name: 'node:crypto fallback (same SA code, same run)', value: fallbackPairs },
      }),
    );
  figures.push(
    {
      group: 'esp',
      name: `encrypt only, ${INNER_BYTES}-byte inner`,
      unit: 'packets/s',
      value: enc,
      notes: `backend: ${backend}`,
    },
    {
      group: 'esp',
      name: `decrypt only, ${INNER_BYTES}-byte inner`,
      unit: 'packets/s',
      value: dec,
      notes: `backend: ${backend}`,
    },
  );
  return figures;
};
