"""Sends plain UDP datagrams from the injector namespace (through its kernel VXLAN device `probe0`):
an end-to-end probe that owes nothing to chainprobe's traffic engine. DF is off (IP_PMTUDISC_DONT),
as the chain fragments the inner packet at the IPsec hop's 1400-byte TUN.

usage: probe.py SRC_IP SRC_PORT DST_IP DST_PORT SIZE COUNT [PPS]
"""
import socket, sys, time

src, sport, dst, dport, size, count = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
pps = float(sys.argv[7]) if len(sys.argv) > 7 else 0.0
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.IPPROTO_IP, 10, 0)  # IP_MTU_DISCOVER = IP_PMTUDISC_DONT: no DF
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((src, sport))
pad = (b"chainprobe-refchain-probe " * (size // 26 + 1))
t0 = time.perf_counter()
for i in range(count):
    head = b"%08d " % i
    s.sendto((head + pad)[:size], (dst, dport))
    if pps:
        delay = t0 + (i + 1) / pps - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
