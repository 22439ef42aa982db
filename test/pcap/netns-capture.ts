/**
 * Real captures for the reader tests: tcpdump on `lo` of a network namespace this test creates, fed with UDP
 * datagrams sent by /usr/bin/python3 inside the namespace. Everything is removed by `remove()`.
 */
import { execa, type ResultPromise } from 'execa';

// Sends one datagram per size to a bound receiver (no ICMP unreachable), then exits.
const sendScript = `
import socket, sys
r = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); r.bind(("127.0.0.1", 9999))
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i, n in enumerate(int(a) for a in sys.argv[1:]):
    s.sendto(bytes((i + k) & 0xff for k in range(n)), ("127.0.0.1", 9999))
`;

export class NetnsLab {
  readonly name = `cpt-pcap-${process.pid}`;
  private readonly running = new Set<ResultPromise>();

  async create(): Promise<void> {
    await execa('ip', ['netns', 'add', this.name]);
    await execa('ip', ['netns', 'exec', this.name, 'ip', 'link', 'set', 'lo', 'up']);
  }

  /**
   * Starts tcpdump on lo (`args` e.g. ['-w', file] or ['-w', '-']) capturing exactly `count` UDP packets,
   * resolves once it listens. Await `.done` for it to finish (wrapped: an async function returning the
   * process itself would adopt it as a thenable and wait for the exit).
   */
  async startTcpdump(
    args: string[],
    count: number,
    /** called right after spawning, before tcpdump writes anything: a later reader would miss the header */
    onStdout?: (stdout: AsyncIterable<Buffer>) => void,
  ): Promise<{ done: ResultPromise }> {
    const p = execa(
      'ip',
      ['netns', 'exec', this.name, 'tcpdump', '-i', 'lo', '-U', '-n', '-c', String(count), ...args, 'udp'],
      {
        timeout: 30_000,
        encoding: 'buffer',
        buffer: { stdout: false, stderr: true },
      },
    );
    this.running.add(p);
    if (onStdout && p.stdout) onStdout(p.stdout as AsyncIterable<Buffer>);
    p.finally(() => this.running.delete(p)).catch(() => {});
    await new Promise<void>((resolve, reject) => {
      let seen = '';
      p.stderr?.on('data', (d: Buffer) => {
        seen += d.toString();
        if (seen.includes('listening on')) resolve();
      });
      p.catch(reject);
      p.then(
        () => reject(new Error(`tcpdump exited before listening: ${seen}`)),
        () => {},
      );
    });
    return { done: p };
  }

  async sendUdp(sizesBytes: number[]): Promise<void> {
    await execa(
      'ip',
      ['netns', 'exec', this.name, '/usr/bin/python3', '-c', sendScript, ...sizesBytes.map(String)],
      {
        timeout: 30_000,
      },
    );
  }

  async remove(): Promise<void> {
    for (const p of this.running) p.kill('SIGKILL');
    await Promise.allSettled([...this.running]);
    await execa('ip', ['netns', 'del', this.name], { reject: false });
  }
}
