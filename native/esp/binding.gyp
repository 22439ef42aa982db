# N-API addon: one OpenSSL EVP_CIPHER_CTX pair per ESP SA (AES-GCM, RFC 4106), used by src/transform/native-gcm.ts.
# Build (offline, Node's own headers incl. <openssl/*.h> under include/node):  npx -c 'node-gyp rebuild -C native/esp'
# No -lcrypto: on Linux the node binary is statically linked with OpenSSL and exports its symbols, so the
# EVP_* references resolve against the running node at dlopen time (same OpenSSL as node:crypto).
{
  "targets": [
    {
      "target_name": "esp_gcm",
      "sources": ["esp_gcm.c"],
      "defines": ["NAPI_VERSION=8"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-fvisibility=hidden"],
      "xcode_settings": { "OTHER_CFLAGS": ["-O2", "-Wall", "-Wextra"] }
    }
  ]
}
