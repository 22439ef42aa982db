/*
 * esp_gcm: AES-GCM for RFC 4303 ESP (RFC 4106) with one OpenSSL EVP_CIPHER_CTX per direction per SA.
 *
 * node:crypto has to build a new GCM cipher (key schedule, GHASH table, JS objects) for every packet; here the
 * key is set once in create() and each packet only re-initialises the nonce:
 *   EVP_EncryptInit_ex(ctx, NULL, NULL, NULL, salt ‖ iv) → AAD → update → final → tag.
 *
 * JS API (see src/transform/native-gcm.ts; one call per packet, no allocation here):
 *   create(key: Uint8Array(16|24|32), salt: Uint8Array(4)) → External handle (the key lives only inside OpenSSL's
 *       context; the handle exposes nothing, and the contexts are freed (and cleansed by OpenSSL) on GC)
 *   seal(h, buf, offset, padded[, seqHigh]) → undefined
 *       buf[offset..] = SPI(4) ‖ seq(4) ‖ IV(8) ‖ plaintext(padded) ‖ room for ICV(16), all written by the caller
 *       except the ICV; encrypts the plaintext in place and writes the ICV.
 *       AAD = SPI ‖ seq, or SPI ‖ seqHigh ‖ seq when seqHigh (ESN) is given.
 *   open(h, esp, out[, seqHigh]) → boolean
 *       esp = SPI ‖ seq ‖ IV ‖ ciphertext ‖ ICV; decrypts the ciphertext into out[0..ctBytes) and returns whether
 *       the ICV verified (on failure out is zeroed: no unauthenticated plaintext escapes).
 * Bad arguments throw TypeError/RangeError; messages never contain key or salt bytes.
 */
#include <node_api.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdint.h>
#include <string.h>

#define SALT_BYTES 4
#define IV_BYTES 8
#define NONCE_BYTES 12
#define ICV_BYTES 16
#define HDR_BYTES 8

typedef struct {
  EVP_CIPHER_CTX *enc;
  EVP_CIPHER_CTX *dec;
  unsigned char salt[SALT_BYTES];
} esp_gcm_t;

/* Tags the External so seal/open never dereference a foreign pointer. */
static const napi_type_tag ESP_GCM_TAG = {0x6368616e6e70726fULL, 0x6265657370676d31ULL};

#define CHECK(call)                                                   \
  do {                                                                \
    if ((call) != napi_ok) {                                          \
      napi_throw_error(env, "E_ESP_NATIVE", "esp_gcm: " #call " failed"); \
      return NULL;                                                    \
    }                                                                 \
  } while (0)

static napi_value throw_type(napi_env env, const char *msg) {
  napi_throw_type_error(env, "E_ESP_NATIVE", msg);
  return NULL;
}

static napi_value throw_range(napi_env env, const char *msg) {
  napi_throw_range_error(env, "E_ESP_NATIVE", msg);
  return NULL;
}

static napi_value throw_ossl(napi_env env, const char *what) {
  napi_throw_error(env, "E_ESP_NATIVE", what);
  return NULL;
}

/* Uint8Array (or Buffer) → data pointer (already adjusted by byteOffset) and length. */
static int get_bytes(napi_env env, napi_value v, unsigned char **data, size_t *len) {
  bool is_ta = false;
  if (napi_is_typedarray(env, v, &is_ta) != napi_ok || !is_ta) return 0;
  napi_typedarray_type type;
  void *p = NULL;
  if (napi_get_typedarray_info(env, v, &type, len, &p, NULL, NULL) != napi_ok) return 0;
  if (type != napi_uint8_array) return 0;
  *data = (unsigned char *)p;
  if (*data == NULL && *len != 0) return 0;
  return 1;
}

static esp_gcm_t *get_handle(napi_env env, napi_value v) {
  napi_valuetype t;
  if (napi_typeof(env, v, &t) != napi_ok || t != napi_external) return NULL;
  bool ok = false;
  if (napi_check_object_type_tag(env, v, &ESP_GCM_TAG, &ok) != napi_ok || !ok) return NULL;
  void *p = NULL;
  if (napi_get_value_external(env, v, &p) != napi_ok) return NULL;
  return (esp_gcm_t *)p;
}

/* Optional ESN high word: absent or undefined → no ESN; else a uint32. Returns 0 on a bad value. */
static int get_seq_high(napi_env env, size_t argc, napi_value *argv, size_t idx, int *esn, uint32_t *high) {
  *esn = 0;
  if (argc <= idx) return 1;
  napi_valuetype t;
  if (napi_typeof(env, argv[idx], &t) != napi_ok) return 0;
  if (t == napi_undefined) return 1;
  if (t != napi_number) return 0;
  if (napi_get_value_uint32(env, argv[idx], high) != napi_ok) return 0;
  *esn = 1;
  return 1;
}

static int get_u32(napi_env env, napi_value v, uint32_t *out) {
  napi_valuetype t;
  if (napi_typeof(env, v, &t) != napi_ok || t != napi_number) return 0;
  return napi_get_value_uint32(env, v, out) == napi_ok;
}

static void build_aad(unsigned char aad[12], const unsigned char *esp, uint32_t high, int esn, int *aad_len) {
  if (!esn) {
    memcpy(aad, esp, 8);
    *aad_len = 8;
    return;
  }
  memcpy(aad, esp, 4); /* SPI */
  aad[4] = (unsigned char)(high >> 24);
  aad[5] = (unsigned char)(high >> 16);
  aad[6] = (unsigned char)(high >> 8);
  aad[7] = (unsigned char)high;
  memcpy(aad + 8, esp + 4, 4); /* seq (low 32 bits) */
  *aad_len = 12;
}

static void finalize(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  esp_gcm_t *s = (esp_gcm_t *)data;
  if (!s) return;
  EVP_CIPHER_CTX_free(s->enc); /* frees and cleanses the key schedule */
  EVP_CIPHER_CTX_free(s->dec);
  OPENSSL_cleanse(s->salt, sizeof s->salt);
  OPENSSL_free(s);
}

static napi_value create(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 2) return throw_type(env, "esp_gcm.create(key, salt): two Uint8Arrays expected");
  unsigned char *key, *salt;
  size_t key_len, salt_len;
  if (!get_bytes(env, argv[0], &key, &key_len)) return throw_type(env, "esp_gcm.create: key must be a Uint8Array");
  if (!get_bytes(env, argv[1], &salt, &salt_len))
    return throw_type(env, "esp_gcm.create: salt must be a Uint8Array");
  const EVP_CIPHER *cipher;
  switch (key_len) {
    case 16: cipher = EVP_aes_128_gcm(); break;
    case 24: cipher = EVP_aes_192_gcm(); break;
    case 32: cipher = EVP_aes_256_gcm(); break;
    default: return throw_range(env, "esp_gcm.create: key must be 16, 24 or 32 bytes");
  }
  if (salt_len != SALT_BYTES) return throw_range(env, "esp_gcm.create: salt must be 4 bytes");

  esp_gcm_t *s = OPENSSL_zalloc(sizeof *s);
  if (!s) return throw_ossl(env, "esp_gcm.create: out of memory");
  s->enc = EVP_CIPHER_CTX_new();
  s->dec = EVP_CIPHER_CTX_new();
  int ok = s->enc && s->dec &&
           EVP_EncryptInit_ex(s->enc, cipher, NULL, NULL, NULL) == 1 &&
           EVP_CIPHER_CTX_ctrl(s->enc, EVP_CTRL_GCM_SET_IVLEN, NONCE_BYTES, NULL) == 1 &&
           EVP_EncryptInit_ex(s->enc, NULL, NULL, key, NULL) == 1 &&
           EVP_DecryptInit_ex(s->dec, cipher, NULL, NULL, NULL) == 1 &&
           EVP_CIPHER_CTX_ctrl(s->dec, EVP_CTRL_GCM_SET_IVLEN, NONCE_BYTES, NULL) == 1 &&
           EVP_DecryptInit_ex(s->dec, NULL, NULL, key, NULL) == 1;
  if (!ok) {
    finalize(env, s, NULL);
    return throw_ossl(env, "esp_gcm.create: OpenSSL cipher context set-up failed");
  }
  memcpy(s->salt, salt, SALT_BYTES);

  napi_value ext;
  if (napi_create_external(env, s, finalize, NULL, &ext) != napi_ok) {
    finalize(env, s, NULL);
    return throw_ossl(env, "esp_gcm.create: napi_create_external failed");
  }
  CHECK(napi_type_tag_object(env, ext, &ESP_GCM_TAG));
  return ext;
}

static napi_value seal(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 4) return throw_type(env, "esp_gcm.seal(handle, buf, offset, padded[, seqHigh])");
  esp_gcm_t *s = get_handle(env, argv[0]);
  if (!s) return throw_type(env, "esp_gcm.seal: not an esp_gcm handle");
  unsigned char *buf;
  size_t len;
  if (!get_bytes(env, argv[1], &buf, &len)) return throw_type(env, "esp_gcm.seal: buf must be a Uint8Array");
  uint32_t offset, padded, high = 0;
  int esn;
  if (!get_u32(env, argv[2], &offset) || !get_u32(env, argv[3], &padded))
    return throw_type(env, "esp_gcm.seal: offset and padded must be numbers");
  if (!get_seq_high(env, argc, argv, 4, &esn, &high))
    return throw_type(env, "esp_gcm.seal: seqHigh must be a number or undefined");
  if (padded > (uint32_t)INT32_MAX ||
      (uint64_t)offset + HDR_BYTES + IV_BYTES + (uint64_t)padded + ICV_BYTES > (uint64_t)len)
    return throw_range(env, "esp_gcm.seal: ESP does not fit in buf");

  unsigned char *esp = buf + offset;
  unsigned char *ct = esp + HDR_BYTES + IV_BYTES;
  unsigned char nonce[NONCE_BYTES], aad[12];
  int aad_len, n = 0, m = 0;
  memcpy(nonce, s->salt, SALT_BYTES);
  memcpy(nonce + SALT_BYTES, esp + HDR_BYTES, IV_BYTES);
  build_aad(aad, esp, high, esn, &aad_len);
  if (EVP_EncryptInit_ex(s->enc, NULL, NULL, NULL, nonce) != 1 ||
      EVP_EncryptUpdate(s->enc, NULL, &n, aad, aad_len) != 1 ||
      EVP_EncryptUpdate(s->enc, ct, &n, ct, (int)padded) != 1 ||
      EVP_EncryptFinal_ex(s->enc, ct + n, &m) != 1 ||
      EVP_CIPHER_CTX_ctrl(s->enc, EVP_CTRL_GCM_GET_TAG, ICV_BYTES, ct + padded) != 1)
    return throw_ossl(env, "esp_gcm.seal: OpenSSL encryption failed");
  return NULL; /* undefined */
}

static napi_value open_(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 3) return throw_type(env, "esp_gcm.open(handle, esp, out[, seqHigh])");
  esp_gcm_t *s = get_handle(env, argv[0]);
  if (!s) return throw_type(env, "esp_gcm.open: not an esp_gcm handle");
  unsigned char *esp, *out;
  size_t len, out_len;
  if (!get_bytes(env, argv[1], &esp, &len)) return throw_type(env, "esp_gcm.open: esp must be a Uint8Array");
  if (!get_bytes(env, argv[2], &out, &out_len)) return throw_type(env, "esp_gcm.open: out must be a Uint8Array");
  uint32_t high = 0;
  int esn;
  if (!get_seq_high(env, argc, argv, 3, &esn, &high))
    return throw_type(env, "esp_gcm.open: seqHigh must be a number or undefined");
  if (len < HDR_BYTES + IV_BYTES + ICV_BYTES || len - (HDR_BYTES + IV_BYTES + ICV_BYTES) > (size_t)INT32_MAX)
    return throw_range(env, "esp_gcm.open: ESP too short or too long");
  size_t ct_len = len - (HDR_BYTES + IV_BYTES + ICV_BYTES);
  if (out_len < ct_len) return throw_range(env, "esp_gcm.open: out is smaller than the ciphertext");

  const unsigned char *ct = esp + HDR_BYTES + IV_BYTES;
  unsigned char nonce[NONCE_BYTES], aad[12], tag[ICV_BYTES];
  int aad_len, n = 0, m = 0;
  memcpy(nonce, s->salt, SALT_BYTES);
  memcpy(nonce + SALT_BYTES, esp + HDR_BYTES, IV_BYTES);
  memcpy(tag, ct + ct_len, ICV_BYTES);
  build_aad(aad, esp, high, esn, &aad_len);
  if (EVP_DecryptInit_ex(s->dec, NULL, NULL, NULL, nonce) != 1 ||
      EVP_DecryptUpdate(s->dec, NULL, &n, aad, aad_len) != 1 ||
      EVP_DecryptUpdate(s->dec, out, &n, ct, (int)ct_len) != 1 ||
      EVP_CIPHER_CTX_ctrl(s->dec, EVP_CTRL_GCM_SET_TAG, ICV_BYTES, tag) != 1)
    return throw_ossl(env, "esp_gcm.open: OpenSSL decryption failed");
  int ok = EVP_DecryptFinal_ex(s->dec, out + n, &m) == 1;
  if (!ok) OPENSSL_cleanse(out, ct_len);
  napi_value result;
  CHECK(napi_get_boolean(env, ok, &result));
  return result;
}

NAPI_MODULE_INIT(/* napi_env env, napi_value exports */) {
  napi_property_descriptor props[] = {
      {"create", NULL, create, NULL, NULL, NULL, napi_enumerable, NULL},
      {"seal", NULL, seal, NULL, NULL, NULL, napi_enumerable, NULL},
      {"open", NULL, open_, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  if (napi_define_properties(env, exports, sizeof props / sizeof props[0], props) != napi_ok) return NULL;
  return exports;
}
