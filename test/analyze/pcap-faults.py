#!/usr/bin/python3
"""
Fault injection for chainprobe's offline-analysis tests, done by scapy (an independent tool) on pcap files.

stdin: a JSON array of ops, each {"op": NAME, "in": PATH, "out": PATH, ...}; stdout (last line): a JSON
array with one object per op saying how many packets it touched. Packets an op does not touch are copied
byte for byte with their timestamps (ns precision); every output stays in time order.

Ops:
  drop            espIpIds: [int], probeSeqs: [int]   drop ESP packets/fragments (IP proto 50) whose IP id
                                                      is listed, and probe packets whose probe seq is listed
  drop-fragment   espIpId, index                      drop the index-th fragment of one ESP datagram
  rewrite-source  probeSeqs: [int], src               set the IPv4 source of those probes, fix checksums
  refragment      espIpId, fragsize                   reassemble one ESP datagram, fragment it again with
                                                      scapy's fragment(fragsize) (payload bytes per fragment)
  overlap         espIpId, index, backBytes           move the index-th fragment of a datagram back so it
                                                      overlaps its predecessor
  flip            espIpId, at                         flip a byte of the ESP ciphertext of an unfragmented
                                                      ESP packet (at: offset in ESP data after SPI+seq)
  inject-esp      afterIpId, src, dst, spi, seq       add a raw ESP packet after an ESP datagram
  dup-swap        dupSeq, swapSeq                     duplicate one probe packet, swap two adjacent ones
                                                      (the data moves, the time slots stay)
  to-sll          -                                   Ethernet -> Linux cooked (SLL, linktype 113)
"""
import json
import logging
import sys

logging.getLogger("scapy.runtime").setLevel(logging.ERROR)
from scapy.all import ESP, IP, UDP, CookedLinux, Ether, Raw, conf, defragment, fragment  # noqa: E402
from scapy.utils import PcapWriter, RawPcapReader  # noqa: E402

NS = 10**9
MAGIC = b"CPRB"


def read(path):
    r = RawPcapReader(path)
    lt = r.linktype
    nano = bool(getattr(r, "nano", False))
    pkts = []
    for raw, meta in r:
        frac = meta.usec if nano else meta.usec * 1000
        pkts.append([meta.sec * NS + frac, bytes(raw)])
    r.close()
    return lt, pkts


def write(path, lt, pkts):
    w = PcapWriter(path, linktype=lt, nano=True, snaplen=262144)
    w.write_header(None)
    for ts, raw in pkts:
        w._write_packet(raw, sec=ts // NS, usec=ts % NS)
    w.close()


def ip_layer(lt, raw):
    """The outermost IPv4 layer of a packet, or None."""
    cls = conf.l2types.get(lt)
    p = cls(raw) if cls else IP(raw)
    return p.getlayer(IP)


def probe_seq(lt, raw):
    """The probe seq of a delivered (unfragmented, decrypted) probe packet, or None."""
    ip = ip_layer(lt, raw)
    if ip is None or UDP not in ip:
        return None
    data = bytes(ip[UDP].payload)
    if data[:4] != MAGIC:
        return None
    return int.from_bytes(data[16:20], "big")


def esp_ip_id(lt, raw):
    ip = ip_layer(lt, raw)
    if ip is None or ip.proto != 50:
        return None
    return ip.id


def fragments_of(lt, pkts, ip_id):
    idx = [i for i, (_, raw) in enumerate(pkts) if esp_ip_id(lt, raw) == ip_id]
    if not idx:
        raise SystemExit(f"no ESP packet with IP id {ip_id}")
    return idx


def op_drop(lt, pkts, a):
    ids = set(a.get("espIpIds", []))
    seqs = set(a.get("probeSeqs", []))
    out = [p for p in pkts if esp_ip_id(lt, p[1]) not in ids and probe_seq(lt, p[1]) not in seqs]
    return out, {"dropped": len(pkts) - len(out)}


def op_drop_fragment(lt, pkts, a):
    idx = fragments_of(lt, pkts, a["espIpId"])
    victim = idx[a["index"]]
    return [p for i, p in enumerate(pkts) if i != victim], {"dropped": 1, "fragments": len(idx)}


def op_rewrite_source(lt, pkts, a):
    seqs = set(a["probeSeqs"])
    n = 0
    for p in pkts:
        if probe_seq(lt, p[1]) in seqs:
            ip = IP(p[1])
            ip.src = a["src"]
            del ip.chksum
            del ip[UDP].chksum
            p[1] = bytes(ip)
            n += 1
    return pkts, {"rewritten": n}


def op_refragment(lt, pkts, a):
    idx = fragments_of(lt, pkts, a["espIpId"])
    frags = [IP(pkts[i][1]) for i in idx]
    whole = [p for p in defragment(frags) if IP in p and p[IP].flags.MF == 0 and p[IP].frag == 0]
    if len(whole) != 1:
        raise SystemExit("could not reassemble the datagram")
    dg = IP(bytes(whole[0]))
    new = [bytes(f) for f in fragment(dg, fragsize=a["fragsize"])]
    t = pkts[idx[0]][0]
    nxt = pkts[idx[-1] + 1][0] if idx[-1] + 1 < len(pkts) else t + NS
    step = max(1, (nxt - t) // (len(new) + 1))
    keep = [p for i, p in enumerate(pkts) if i not in set(idx)]
    out = keep[: idx[0]] + [[t + k * step, raw] for k, raw in enumerate(new)] + keep[idx[0] :]
    return out, {"fragments": len(new), "largest": max(len(r) for r in new), "was": len(idx)}


def op_overlap(lt, pkts, a):
    idx = fragments_of(lt, pkts, a["espIpId"])
    i = idx[a["index"]]
    ip = IP(pkts[i][1])
    ip.frag = ip.frag - a["backBytes"] // 8
    del ip.chksum
    pkts[i][1] = bytes(ip)
    return pkts, {"moved": 1, "fragments": len(idx)}


def op_flip(lt, pkts, a):
    idx = fragments_of(lt, pkts, a["espIpId"])
    if len(idx) != 1:
        raise SystemExit("flip wants an unfragmented ESP packet")
    ip = IP(pkts[idx[0]][1])
    data = bytearray(ip[ESP].data)
    data[a["at"]] ^= 0xFF
    ip[ESP].data = bytes(data)
    pkts[idx[0]][1] = bytes(ip)
    return pkts, {"flipped": 1}


def op_inject_esp(lt, pkts, a):
    pos = fragments_of(lt, pkts, a["afterIpId"])[-1]
    ts = pkts[pos][0] + 1000
    pkt = IP(src=a["src"], dst=a["dst"], id=0x7777) / ESP(spi=a["spi"], seq=a["seq"], data=bytes(range(64)))
    pkts.insert(pos + 1, [ts, bytes(pkt)])
    return pkts, {"added": 1}


def op_dup_swap(lt, pkts, a):
    seqs = [probe_seq(lt, raw) for _, raw in pkts]
    d = seqs.index(a["dupSeq"])
    s1 = seqs.index(a["swapSeq"])
    s2 = seqs.index(a["swapSeq"] + 1)
    pkts[s1][1], pkts[s2][1] = pkts[s2][1], pkts[s1][1]
    pkts.insert(d + 1, [pkts[d][0] + 1000, pkts[d][1]])
    return pkts, {"duplicated": 1, "swapped": 2}


def op_to_sll(lt, pkts, a):
    if lt != 1:
        raise SystemExit(f"to-sll wants Ethernet (linktype 1), got {lt}")
    for p in pkts:
        e = Ether(p[1])
        src = bytes.fromhex(e.src.replace(":", "")) + b"\0\0"
        c = CookedLinux(pkttype=0, lladdrtype=1, lladdrlen=6, src=src, proto=e.type) / e.payload
        p[1] = bytes(c)
    return pkts, {"converted": len(pkts), "linktype": 113}


OPS = {
    "drop": op_drop,
    "drop-fragment": op_drop_fragment,
    "rewrite-source": op_rewrite_source,
    "refragment": op_refragment,
    "overlap": op_overlap,
    "flip": op_flip,
    "inject-esp": op_inject_esp,
    "dup-swap": op_dup_swap,
    "to-sll": op_to_sll,
}


def main():
    results = []
    for a in json.loads(sys.stdin.read()):
        lt, pkts = read(a["in"])
        out, res = OPS[a["op"]](lt, pkts, a)
        out_lt = res.get("linktype", lt)
        times = [t for t, _ in out]
        if times != sorted(times):
            raise SystemExit(f"{a['op']}: output would not be in time order")
        write(a["out"], out_lt, out)
        results.append(res)
    print(json.dumps(results))


main()
