/*
 * afpacket-tx — chainprobe's L2 injector helper. Sends whole Ethernet frames on an AF_PACKET socket with
 * sendmmsg(2) batches, paced by an absolute schedule (frame k is due at t0 + k/rate, never "sleep a delta",
 * so no cumulative drift), optionally in bursts. Built on first use by src/inject/native.ts with `cc -O2`.
 *
 * stdin: frames as [u32 little-endian length][length bytes] ... until EOF.
 *   -l (loop mode): read every frame first, then send `-c` frames cycling over them (frame k = set[k % n]).
 *   otherwise (stream mode): send frames as they arrive, until EOF, -c or -d.
 * stdout: JSON lines: {"type":"ready"} once the socket is bound, {"type":"progress",...} every -p ms,
 *   {"type":"done",...} at the end (also after SIGTERM/SIGINT), or {"type":"error","code":...,"message":...}.
 *
 * usage: afpacket-tx -i IFNAME [-r PPS] [-m MBPS] [-c COUNT] [-d SECONDS] [-b BURST] [-B BATCH] [-p MS] [-q] [-l]
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_FRAME (256 * 1024)
#define MAX_BATCH 1024

static volatile sig_atomic_t stop_flag = 0;
static void on_signal(int sig) { (void)sig; stop_flag = 1; }

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void sleep_until(uint64_t t) {
  struct timespec ts = {.tv_sec = (time_t)(t / 1000000000ull), .tv_nsec = (long)(t % 1000000000ull)};
  while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR && !stop_flag) {
  }
}

static void fail(const char *code, const char *fmt, const char *arg, int err) {
  char msg[512];
  snprintf(msg, sizeof msg, fmt, arg, err ? strerror(err) : "");
  printf("{\"type\":\"error\",\"code\":\"%s\",\"message\":\"", code);
  for (char *p = msg; *p; p++) {
    if (*p == '"' || *p == '\\') putchar('\\');
    putchar(*p);
  }
  printf("\"}\n");
  fflush(stdout);
  exit(2);
}

/* ---- stdin framing ---- */
static uint8_t *rbuf;
static size_t rcap, rstart, rend;
static int in_eof = 0;

/* Make at least `need` bytes available at rbuf+rstart (compacting first). Returns 0 at EOF. */
static int fill(size_t need) {
  if (rend - rstart >= need) return 1;
  if (rstart > 0) {
    memmove(rbuf, rbuf + rstart, rend - rstart);
    rend -= rstart;
    rstart = 0;
  }
  while (rend < need) {
    if (in_eof || stop_flag) return 0;
    ssize_t n = read(0, rbuf + rend, rcap - rend);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail("E_INJECT_FAILED", "reading frames from stdin: %s%s", "", errno);
    }
    if (n == 0) {
      in_eof = 1;
      return 0;
    }
    rend += (size_t)n;
  }
  return 1;
}

static uint32_t rd32(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }

int main(int argc, char **argv) {
  const char *ifname = NULL;
  double pps = 0, mbps = 0, duration = 0;
  uint64_t count = 0;
  unsigned burst = 1, batch = 64;
  unsigned progress_ms = 1000;
  int qdisc_bypass = 0, loop_mode = 0;
  int opt;
  while ((opt = getopt(argc, argv, "i:r:m:c:d:b:B:p:ql")) != -1) {
    switch (opt) {
      case 'i': ifname = optarg; break;
      case 'r': pps = atof(optarg); break;
      case 'm': mbps = atof(optarg); break;
      case 'c': count = strtoull(optarg, NULL, 10); break;
      case 'd': duration = atof(optarg); break;
      case 'b': burst = (unsigned)atoi(optarg); break;
      case 'B': batch = (unsigned)atoi(optarg); break;
      case 'p': progress_ms = (unsigned)atoi(optarg); break;
      case 'q': qdisc_bypass = 1; break;
      case 'l': loop_mode = 1; break;
      default: fail("E_CONFIG", "bad option%s%s", "", 0);
    }
  }
  if (!ifname) fail("E_CONFIG", "-i IFNAME is required%s%s", "", 0);
  if (burst < 1) burst = 1;
  if (batch < 1) batch = 1;
  if (batch > MAX_BATCH) batch = MAX_BATCH;

  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  signal(SIGPIPE, SIG_IGN);

  int fd = socket(AF_PACKET, SOCK_RAW, 0); /* protocol 0: transmit only, never receives */
  if (fd < 0) fail(errno == EPERM ? "E_NO_PRIVILEGE" : "E_INJECT_FAILED", "socket(AF_PACKET): %s%s", "", errno);
  unsigned ifindex = if_nametoindex(ifname);
  if (ifindex == 0) fail("E_NO_INTERFACE", "no interface %s here (%s)", ifname, errno);
  struct sockaddr_ll sll;
  memset(&sll, 0, sizeof sll);
  sll.sll_family = AF_PACKET;
  sll.sll_ifindex = (int)ifindex;
  sll.sll_protocol = 0;
  if (bind(fd, (struct sockaddr *)&sll, sizeof sll) < 0) fail("E_INJECT_FAILED", "bind to %s: %s", ifname, errno);
  int one = 1;
  if (qdisc_bypass) setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof one);
  int sndbuf = 4 * 1024 * 1024;
  setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sndbuf, sizeof sndbuf);

  printf("{\"type\":\"ready\",\"ifindex\":%u}\n", ifindex);
  fflush(stdout);

  rcap = 4 * 1024 * 1024;
  rbuf = malloc(rcap);
  if (!rbuf) fail("E_INJECT_FAILED", "out of memory%s%s", "", 0);

  /* loop mode: read the whole frame set first */
  uint8_t **set = NULL;
  uint32_t *setlen = NULL;
  size_t nset = 0;
  if (loop_mode) {
    size_t capset = 1024, used = 0, bcap = 1 << 20;
    uint8_t *store = malloc(bcap);
    size_t *offs = malloc(capset * sizeof *offs);
    setlen = malloc(capset * sizeof *setlen);
    for (;;) {
      if (!fill(4)) break;
      uint32_t len = rd32(rbuf + rstart);
      if (len == 0 || len > MAX_FRAME) fail("E_INJECT_FAILED", "bad frame length on stdin%s%s", "", 0);
      if (!fill(4 + (size_t)len)) fail("E_INJECT_FAILED", "truncated frame on stdin%s%s", "", 0);
      if (nset == capset) {
        capset *= 2;
        offs = realloc(offs, capset * sizeof *offs);
        setlen = realloc(setlen, capset * sizeof *setlen);
      }
      while (used + len > bcap) { bcap *= 2; store = realloc(store, bcap); }
      memcpy(store + used, rbuf + rstart + 4, len);
      offs[nset] = used;
      setlen[nset++] = len;
      used += len;
      rstart += 4 + len;
    }
    if (stop_flag) nset = 0;
    set = malloc((nset ? nset : 1) * sizeof *set);
    for (size_t i = 0; i < nset; i++) set[i] = store + offs[i];
    free(offs);
    if (count == 0 && duration == 0) count = nset;
  }

  struct mmsghdr *msgs = calloc(MAX_BATCH, sizeof *msgs);
  struct iovec *iov = calloc(MAX_BATCH, sizeof *iov);
  for (unsigned i = 0; i < MAX_BATCH; i++) {
    msgs[i].msg_hdr.msg_iov = &iov[i];
    msgs[i].msg_hdr.msg_iovlen = 1;
  }

  uint64_t sent = 0, failed = 0, bytes = 0, retries = 0, k = 0; /* k = frames consumed (sent or failed) */
  int last_errno = 0;
  double bytes_sched = 0;  /* cumulative bytes before the current burst, for Mbps pacing */
  uint64_t burst_start_k = 0;
  double bytes_at_burst = 0;
  const int paced = pps > 0 || mbps > 0;
  const uint64_t t0 = now_ns();
  uint64_t next_progress = t0 + (uint64_t)progress_ms * 1000000ull;
  const uint64_t t_end = duration > 0 ? t0 + (uint64_t)(duration * 1e9) : 0;
  int done_input = 0;

  while (!stop_flag) {
    if (count && k >= count) break;
    if (loop_mode && nset == 0) break;
    uint64_t now = now_ns();
    if (t_end && now >= t_end) break;
    if (now >= next_progress) {
      printf("{\"type\":\"progress\",\"sent\":%llu,\"failed\":%llu,\"elapsedNs\":%llu}\n", (unsigned long long)sent,
             (unsigned long long)failed, (unsigned long long)(now - t0));
      fflush(stdout);
      next_progress = now + (uint64_t)progress_ms * 1000000ull;
    }
    /* how many frames may go now (absolute schedule, whole bursts) */
    uint64_t allowed = batch;
    if (paced) {
      if (k == burst_start_k + burst || k == 0) {
        burst_start_k = k;
        bytes_at_burst = bytes_sched;
      }
      uint64_t due_t = pps > 0 ? t0 + (uint64_t)((double)burst_start_k * 1e9 / pps)
                               : t0 + (uint64_t)(bytes_at_burst * 8000.0 / mbps);
      if (due_t > now) {
        uint64_t wake = due_t;
        if (t_end && wake > t_end) wake = t_end;
        if (wake > next_progress) wake = next_progress;
        sleep_until(wake);
        continue;
      }
      allowed = burst_start_k + burst - k; /* rest of this burst */
      if (allowed > batch) allowed = batch;
    }
    if (count && allowed > count - k) allowed = count - k;

    /* gather up to `allowed` frames */
    unsigned n = 0;
    if (loop_mode) {
      for (; n < allowed; n++) {
        size_t idx = (size_t)((k + n) % nset);
        iov[n].iov_base = set[idx];
        iov[n].iov_len = setlen[idx];
      }
    } else {
      size_t pos = rstart;
      while (n < allowed) {
        size_t avail = rend - pos;
        uint32_t len = avail >= 4 ? rd32(rbuf + pos) : 0;
        if (avail >= 4 && (len == 0 || len > MAX_FRAME)) fail("E_INJECT_FAILED", "bad frame length on stdin%s%s", "", 0);
        if (avail < 4 || avail < 4 + (size_t)len) {
          if (n > 0) break; /* send what we have; never move the buffer under gathered frames */
          if (!fill(avail < 4 ? 4 : 4 + (size_t)len)) { done_input = 1; break; }
          pos = rstart;
          continue;
        }
        iov[n].iov_base = rbuf + pos + 4;
        iov[n].iov_len = len;
        pos += 4 + (size_t)len;
        n++;
      }
      if (n == 0) {
        if (done_input) break;
        continue;
      }
      rstart = pos; /* frames stay valid: nothing compacts the buffer until the next gather */
    }

    /* send them, retrying on a full queue */
    unsigned off = 0;
    while (off < n && !stop_flag) {
      int r = sendmmsg(fd, msgs + off, n - off, 0);
      if (r > 0) {
        for (int j = 0; j < r; j++) {
          bytes += iov[off + j].iov_len;
          bytes_sched += (double)iov[off + j].iov_len;
        }
        sent += (uint64_t)r;
        off += (unsigned)r;
      } else if (errno == ENOBUFS || errno == EAGAIN || errno == EINTR) {
        retries++;
        struct timespec ts = {0, 20000};
        nanosleep(&ts, NULL);
      } else {
        last_errno = errno;
        bytes_sched += (double)iov[off].iov_len;
        failed++;
        off++;
      }
    }
    k += off;
    if (!loop_mode && done_input) break;
  }

  uint64_t t1 = now_ns();
  printf("{\"type\":\"done\",\"sent\":%llu,\"failed\":%llu,\"bytes\":%llu,\"retries\":%llu,\"elapsedNs\":%llu,"
         "\"lastError\":\"%s\",\"stopped\":%s}\n",
         (unsigned long long)sent, (unsigned long long)failed, (unsigned long long)bytes, (unsigned long long)retries,
         (unsigned long long)(t1 - t0), last_errno ? strerror(last_errno) : "", stop_flag ? "true" : "false");
  fflush(stdout);
  close(fd);
  return 0;
}
