/**
 * Captures for the replay tests, built and read by scapy (/usr/bin/python3): the independent producer of
 * the files and the oracle of what a replay must extract from them (each packet's innermost UDP payload,
 * after VXLAN; fragments and non-UDP skipped). NetFlow v9 and sFlow v5 datagrams are packed by hand with
 * `struct` following RFC 3954 and sflow_version_5.txt, so nothing of chainprobe's codecs is involved.
 */
import { scapy } from '../transform/scapy.ts';

const builders = `
import struct, random
E = lambda: Ether(src='02:00:00:00:00:01', dst='02:00:00:00:00:02')
IPH = lambda: IP(src='192.0.2.1', dst='198.51.100.1')

def netflow_v9(seq, source_id=7, device=0):
    # template 256 (srcaddr, dstaddr, packets, octets, protocol) and one data record, every datagram
    fields = [(8, 4), (12, 4), (2, 4), (1, 4), (4, 1)]
    tmpl = struct.pack('!HH', 256, len(fields)) + b''.join(struct.pack('!HH', t, l) for t, l in fields)
    tmpl_set = struct.pack('!HH', 0, 4 + len(tmpl)) + tmpl
    rec = struct.pack('!4s4sIIB', bytes([10, device, seq % 250, 1]), bytes([10, 1, 0, 2]), 10 + seq, 1500 * (seq + 1), 6)
    rec += b'\\0' * (-len(rec) % 4)
    data_set = struct.pack('!HH', 256, 4 + len(rec)) + rec
    hdr = struct.pack('!HHIIII', 9, 2, 100000 + seq, 1700000000, seq, source_id)
    return hdr + tmpl_set + data_set

def sflow_v5(seq, agent='192.0.2.77'):
    # one flow sample with a raw packet header record (Ethernet/IPv4/TCP header, 54 bytes)
    header = bytes(Ether()/IP(src='10.2.0.1', dst='10.3.0.1')/TCP(sport=1000 + seq, dport=443))
    record = struct.pack('!IIII', 1, 1514, 4, len(header)) + header + b'\\0' * (-len(header) % 4)
    sample = struct.pack('!IIIIIIII', seq, 3, 1000, 1000 * seq, 0, 3, 4, 1)
    sample += struct.pack('!II', 1, len(record)) + record
    body = struct.pack('!II', 1, len(sample)) + sample
    hdr = struct.pack('!II4sIIII', 5, 1, bytes(map(int, agent.split('.'))), 0, seq, 5000 + seq, 1)
    return hdr + body

def udp(dport, payload, sport=40001):
    return E()/IPH()/UDP(sport=sport, dport=dport)/Raw(payload)

def vxlan(inner):
    return E()/IP(src='203.0.113.1', dst='203.0.113.2')/UDP(sport=49152, dport=4789)/VXLAN(vni=42)/inner
`;

const oracle = `
def innermost_udp_payloads(path):
    """What a replay must take: per packet, the innermost IPv4's UDP payload (VXLAN decapsulated)."""
    out, skipped = [], {'not UDP': 0, 'fragments': 0}
    for p in rdpcap(path):
        ips = []
        while p.getlayer(IP, nb=len(ips) + 1) is not None:
            ips.append(p.getlayer(IP, nb=len(ips) + 1))
        if not ips:
            skipped['not UDP'] += 1
            continue
        ip = ips[-1]
        if ip.flags.MF or ip.frag > 0:
            skipped['fragments'] += 1
            continue
        if ip.proto != 17:
            skipped['not UDP'] += 1
            continue
        u = ip[UDP]
        out.append([u.dport, bytes(u.payload)[: u.len - 8].hex()])
    return {'payloads': out, 'skipped': skipped}
`;

export interface ScapyPayloads {
  /** [destination port, payload hex], in capture order */
  payloads: [number, string][];
  skipped: { 'not UDP': number; fragments: number };
}

/** What scapy reads as the replayable payloads of `path`. */
export function scapyPayloads(path: string): Promise<ScapyPayloads> {
  return scapy<ScapyPayloads>(`${oracle}\ndef main(inp):\n    return innermost_udp_payloads(inp['path'])`, {
    path,
  });
}

/**
 * A small capture of everything a user's capture may hold: NetFlow v9 to 2055, sFlow to 6343, arbitrary
 * payloads (two identical) to 9995, a padded runt, VXLAN-mirrored UDP, VXLAN-mirrored TCP, TCP, ICMP, ARP
 * and a UDP datagram in 3 fragments. Written as pcap and as pcapng (Ethernet), and as a raw-IPv4 pcap
 * (linktype 101, ARP left out) when `rawIp` is given.
 */
export async function writeMixedCapture(pcap: string, pcapng: string, rawIp?: string): Promise<void> {
  await scapy(
    `${builders}
def main(inp):
    pkts = []
    pkts += [udp(2055, netflow_v9(s)) for s in range(10)]
    pkts += [udp(6343, sflow_v5(s), sport=40002) for s in range(5)]
    pkts += [udp(9995, b'same payload twice'), udp(9995, b'same payload twice')]
    pkts += [udp(9995, bytes(range(i, i + 40))) for i in range(2)]
    pkts += [udp(9995, b'x')/Padding(b'\\0' * 16)]
    pkts += [vxlan(Ether()/IP(src='10.10.10.50', dst='10.10.10.10')/UDP(sport=40003, dport=2055)/Raw(netflow_v9(100 + s, 9))) for s in range(5)]
    pkts += [vxlan(Ether()/IP()/TCP(sport=1234, dport=80)/Raw(b'GET /')) for _ in range(2)]
    pkts += [E()/IPH()/TCP(sport=1234 + i, dport=443) for i in range(3)]
    pkts += [E()/IPH()/ICMP() for _ in range(2)]
    pkts += [E()/ARP(psrc='192.0.2.1', pdst='192.0.2.2')]
    pkts += [E()/f for f in fragment(IPH()/UDP(sport=40004, dport=2055)/Raw(b'F' * 3000), fragsize=1400)]
    wrpcap(inp['pcap'], pkts)
    wrpcapng(inp['pcapng'], pkts)
    if inp.get('rawIp'):
        wrpcap(inp['rawIp'], [p[IP] for p in pkts if IP in p], linktype=101)
    return len(pkts)`,
    { pcap, pcapng, rawIp },
  );
}

/** A capture with no UDP datagram at all (TCP and ICMP). */
export async function writeUdpLessCapture(path: string): Promise<void> {
  await scapy(
    `${builders}
def main(inp):
    wrpcap(inp['path'], [E()/IPH()/TCP(sport=1234, dport=443), E()/IPH()/ICMP()])
    return 2`,
    { path },
  );
}

/**
 * The live replay's capture, `n` datagrams: NetFlow v9 to 2055 from two devices that share source id and
 * sequence numbers (their records differ: one replay exporter sends both, only the payload tells them
 * apart), a quarter of it VXLAN-mirrored; sFlow v5 to 6343; arbitrary payloads to 2055, one in five larger
 * than the chain's 1400-byte link (fragmented there), plus `identical` copies of one payload spread
 * through the capture. Returns the kinds' counts.
 */
export function writeLiveCapture(
  path: string,
  n: number,
  identical: number,
): Promise<{ netflow: number; sflow: number; other: number; identical: number }> {
  return scapy(
    `${builders}
def main(inp):
    n, same = inp['n'], inp['identical']
    rnd = random.Random(7)
    pkts, counts = [], {'netflow': 0, 'sflow': 0, 'other': 0, 'identical': same}
    for i in range(n - same):
        k = i % 10
        if k < 6:
            p = udp(2055, netflow_v9(i // 2, source_id=1, device=i % 2))
            pkts.append(vxlan(p) if i % 4 == 0 else p)
            counts['netflow'] += 1
        elif k < 9:
            pkts.append(udp(6343, sflow_v5(i), sport=40002))
            counts['sflow'] += 1
        else:
            size = rnd.randrange(1500, 2500) if counts['other'] % 5 == 0 else rnd.randrange(20, 400)
            pkts.append(udp(2055, bytes(rnd.getrandbits(8) for _ in range(size))))
            counts['other'] += 1
    # identical payloads spread through the capture (each a copy of the same bytes)
    for j in range(same):
        pkts.insert((j + 1) * len(pkts) // (same + 1), udp(2055, b'identical payload in a user capture'))
    wrpcap(inp['path'], pkts)
    return counts`,
    { path, n, identical },
  );
}
