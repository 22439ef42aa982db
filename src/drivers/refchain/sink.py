"""The reference chain's delivery point: a UDP listener that counts datagrams by size and by source.

Why Python and not socat or Node: it must *count* (socat only copies bytes), and it dumps its counters
on SIGUSR1, which Node reserves for its inspector. A tight recvfrom loop keeps up with the chain's
~30 k pps; it uses only the standard library.

usage: sink.py BIND_IP PORT COUNTERS_JSON
"""
import json, os, signal, socket, sys, time

os.umask(0o077)
ip, port, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)  # capped by net.core.rmem_max
s.bind((ip, port))
packets, octets, sizes, sources, dumps = 0, 0, {}, {}, 0
started = time.time()
last_at = None

def dump(*_):
    global dumps
    dumps += 1
    tmp = out + ".tmp"
    with open(tmp, "w") as f:
        json.dump({"bind": f"{ip}:{port}", "pid": os.getpid(), "dumps": dumps, "packets": packets, "bytes": octets,
                   "sizes": sizes, "sources": sources, "startedAt": started, "lastAt": last_at}, f)
    os.replace(tmp, out)

def stop(*_):
    dump()
    os._exit(0)

signal.signal(signal.SIGUSR1, dump)
signal.signal(signal.SIGTERM, stop)
signal.signal(signal.SIGINT, stop)
dump()
recv = s.recvfrom
while True:
    data, (src, _sport) = recv(65535)
    n = len(data)
    packets += 1
    octets += n
    k = str(n)
    sizes[k] = sizes.get(k, 0) + 1
    sources[src] = sources.get(src, 0) + 1
    last_at = time.time()
