{
  "targets": [
    {
      "target_name": "rawtx",
      "sources": ["rawtx.c"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "defines": ["NAPI_VERSION=8"]
    }
  ]
}
