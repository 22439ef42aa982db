/*
 * rawtx — chainprobe's batched raw IPv4 sender, an N-API addon (native/rawtx, built with
 * `npx -c 'node-gyp rebuild -C native/rawtx'`; loaded by src/inject/rawtx.ts).
 *
 * A raw IPv4 socket with IP_HDRINCL (IPPROTO_RAW, non-blocking): the kernel routes on each packet's
 * destination and keeps the header we give it, spoofed source included. sendBatch() hands a whole batch to
 * the kernel with one sendmmsg(2): JS lays the packets out in one Buffer and passes offsets/lengths as
 * Uint32Arrays, so there is one JS→C call per batch, and no allocation here (the mmsghdr/iovec/sockaddr
 * arrays live on the stack, MAX_BATCH entries).
 *
 *   open([netnsPath]) -> fd          socket in this thread's namespace, or in the namespace at netnsPath
 *                                    (setns there, socket(), setns back; the socket stays in that namespace)
 *   sendBatch(fd, buf, offsets, lengths, start, count) -> n >= 0 packets sent, or -errno when the first failed
 *   waitWritable(fd, timeoutMs) -> 1 writable, 0 timeout, -errno
 *   close(fd)
 *   strerror(errno) -> string
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <node_api.h>
#include <poll.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_BATCH 256

#define CHECK(call)                                                                                            \
  do {                                                                                                         \
    if ((call) != napi_ok) return throw_last(env, #call);                                                      \
  } while (0)

static napi_value throw_last(napi_env env, const char *what) {
  const napi_extended_error_info *info = NULL;
  napi_get_last_error_info(env, &info);
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  if (!pending) napi_throw_error(env, "E_RAWTX", info && info->error_message ? info->error_message : what);
  return NULL;
}

static napi_value throw_errno(napi_env env, const char *what, int err) {
  char msg[256];
  snprintf(msg, sizeof msg, "%s: %s", what, strerror(err));
  napi_value m, c, e;
  napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &m);
  napi_create_string_utf8(env, "E_RAWTX", NAPI_AUTO_LENGTH, &c);
  napi_create_error(env, c, m, &e);
  napi_value errnoVal;
  napi_create_int32(env, err, &errnoVal);
  napi_set_named_property(env, e, "errno", errnoVal);
  napi_throw(env, e);
  return NULL;
}

static napi_value int_value(napi_env env, int64_t v) {
  napi_value r;
  napi_create_int64(env, v, &r);
  return r;
}

static int open_raw(void) {
  int fd = socket(AF_INET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_RAW);
  if (fd < 0) return -errno;
  int one = 1;
  if (setsockopt(fd, IPPROTO_IP, IP_HDRINCL, &one, sizeof one) < 0) {
    int e = errno;
    close(fd);
    return -e;
  }
  return fd;
}

/* open([netnsPath]) */
static napi_value js_open(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  char path[4096] = "";
  if (argc >= 1) {
    napi_valuetype t;
    CHECK(napi_typeof(env, argv[0], &t));
    if (t == napi_string) {
      size_t len = 0;
      CHECK(napi_get_value_string_utf8(env, argv[0], path, sizeof path, &len));
      if (len >= sizeof path - 1) return throw_errno(env, "netns path too long", ENAMETOOLONG);
    }
  }
  if (!path[0]) {
    int fd = open_raw();
    if (fd < 0) return throw_errno(env, "socket(AF_INET, SOCK_RAW, IPPROTO_RAW)", -fd);
    return int_value(env, fd);
  }
  /* setns() applies to the calling thread only: enter, create the socket, come back. */
  int self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  if (self < 0) self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
  if (self < 0) return throw_errno(env, "open /proc/thread-self/ns/net", errno);
  int target = open(path, O_RDONLY | O_CLOEXEC);
  if (target < 0) {
    int e = errno;
    close(self);
    return throw_errno(env, path, e);
  }
  if (setns(target, CLONE_NEWNET) < 0) {
    int e = errno;
    close(target);
    close(self);
    return throw_errno(env, "setns", e);
  }
  int fd = open_raw();
  int back = setns(self, CLONE_NEWNET);
  int backErr = errno;
  close(target);
  close(self);
  if (back < 0) {
    /* Cannot happen short of a kernel bug; this thread would be stranded in the other namespace. */
    if (fd >= 0) close(fd);
    return throw_errno(env, "setns back to the original namespace", backErr);
  }
  if (fd < 0) return throw_errno(env, "socket(AF_INET, SOCK_RAW, IPPROTO_RAW)", -fd);
  return int_value(env, fd);
}

static napi_value js_close(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int32_t fd = -1;
  if (argc < 1 || napi_get_value_int32(env, argv[0], &fd) != napi_ok) return throw_last(env, "close(fd)");
  if (fd >= 0) close(fd);
  return NULL;
}

static int get_u32_array(napi_env env, napi_value v, uint32_t **data, size_t *len) {
  napi_typedarray_type type;
  void *p;
  napi_value ab;
  size_t off;
  if (napi_get_typedarray_info(env, v, &type, len, &p, &ab, &off) != napi_ok || type != napi_uint32_array)
    return -1;
  *data = (uint32_t *)p;
  return 0;
}

/* sendBatch(fd, buf, offsets, lengths, start, count) */
static napi_value js_send_batch(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 6) {
    napi_throw_type_error(env, NULL, "sendBatch(fd, buf, offsets, lengths, start, count)");
    return NULL;
  }
  int32_t fd, start, count;
  CHECK(napi_get_value_int32(env, argv[0], &fd));
  uint8_t *buf;
  size_t buflen;
  bool isBuf = false;
  CHECK(napi_is_buffer(env, argv[1], &isBuf));
  if (isBuf) {
    CHECK(napi_get_buffer_info(env, argv[1], (void **)&buf, &buflen));
  } else {
    napi_typedarray_type type;
    napi_value ab;
    size_t off;
    if (napi_get_typedarray_info(env, argv[1], &type, &buflen, (void **)&buf, &ab, &off) != napi_ok ||
        type != napi_uint8_array) {
      napi_throw_type_error(env, NULL, "sendBatch: buf must be a Buffer or Uint8Array");
      return NULL;
    }
  }
  uint32_t *offs, *lens;
  size_t noffs, nlens;
  if (get_u32_array(env, argv[2], &offs, &noffs) || get_u32_array(env, argv[3], &lens, &nlens)) {
    napi_throw_type_error(env, NULL, "sendBatch: offsets and lengths must be Uint32Arrays");
    return NULL;
  }
  CHECK(napi_get_value_int32(env, argv[4], &start));
  CHECK(napi_get_value_int32(env, argv[5], &count));
  if (start < 0 || count < 0 || count > MAX_BATCH || (size_t)start + (size_t)count > noffs ||
      (size_t)start + (size_t)count > nlens) {
    napi_throw_range_error(env, NULL, "sendBatch: start/count out of range (count <= 256)");
    return NULL;
  }
  if (count == 0) return int_value(env, 0);

  struct mmsghdr msgs[MAX_BATCH];
  struct iovec iov[MAX_BATCH];
  struct sockaddr_in dst[MAX_BATCH];
  for (int i = 0; i < count; i++) {
    uint32_t o = offs[start + i], l = lens[start + i];
    if ((size_t)o + (size_t)l > buflen) {
      napi_throw_range_error(env, NULL, "sendBatch: a packet lies outside the buffer");
      return NULL;
    }
    const uint8_t *p = buf + o;
    memset(&dst[i], 0, sizeof dst[i]);
    dst[i].sin_family = AF_INET;
    if (l >= 20) memcpy(&dst[i].sin_addr.s_addr, p + 16, 4); /* the packet's own destination */
    iov[i].iov_base = (void *)p;
    iov[i].iov_len = l;
    memset(&msgs[i], 0, sizeof msgs[i]);
    msgs[i].msg_hdr.msg_name = &dst[i];
    msgs[i].msg_hdr.msg_namelen = sizeof dst[i];
    msgs[i].msg_hdr.msg_iov = &iov[i];
    msgs[i].msg_hdr.msg_iovlen = 1;
  }
  int r;
  do {
    r = sendmmsg(fd, msgs, (unsigned)count, MSG_DONTWAIT);
  } while (r < 0 && errno == EINTR);
  return int_value(env, r < 0 ? -errno : r);
}

/* waitWritable(fd, timeoutMs) */
static napi_value js_wait_writable(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int32_t fd = -1, ms = 0;
  CHECK(napi_get_value_int32(env, argv[0], &fd));
  if (argc > 1) CHECK(napi_get_value_int32(env, argv[1], &ms));
  struct pollfd p = {.fd = fd, .events = POLLOUT};
  int r = poll(&p, 1, ms);
  return int_value(env, r < 0 ? -errno : r > 0 ? 1 : 0);
}

static napi_value js_strerror(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int32_t e = 0;
  CHECK(napi_get_value_int32(env, argv[0], &e));
  napi_value s;
  CHECK(napi_create_string_utf8(env, strerror(e < 0 ? -e : e), NAPI_AUTO_LENGTH, &s));
  return s;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"open", NULL, js_open, NULL, NULL, NULL, napi_enumerable, NULL},
      {"close", NULL, js_close, NULL, NULL, NULL, napi_enumerable, NULL},
      {"sendBatch", NULL, js_send_batch, NULL, NULL, NULL, napi_enumerable, NULL},
      {"waitWritable", NULL, js_wait_writable, NULL, NULL, NULL, napi_enumerable, NULL},
      {"strerror", NULL, js_strerror, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  napi_value max;
  napi_create_int32(env, MAX_BATCH, &max);
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  napi_set_named_property(env, exports, "MAX_BATCH", max);
  return exports;
}

NAPI_MODULE_INIT() { return init(env, exports); }
