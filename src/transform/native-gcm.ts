/**
 * Loader for the optional N-API addon native/esp (esp_gcm.c): AES-GCM for ESP with one OpenSSL cipher context
 * per SA, so a packet costs one JS→C call instead of building a node:crypto cipher per packet.
 *
 * Build it (offline: npm's bundled node-gyp, the headers of npm's `nodedir` including <openssl/*.h>; the OpenSSL
 * symbols resolve against the node binary itself at load time, no -lcrypto): NATIVE_GCM_BUILD_COMMAND.
 *
 * `nativeGcm` is null when the addon is not built, cannot be loaded, fails its load-time known-answer check
 * against node:crypto, or CHAINPROBE_NO_NATIVE=1 is set; `nativeGcmStatus.reason` then says why. esp-sa.ts
 * falls back to node:crypto in all those cases, with identical output.
 */
import { createCipheriv } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/** Opaque handle (an N-API External): holds the OpenSSL contexts; exposes neither key nor salt. */
export type NativeGcmHandle = { readonly __nativeGcmHandle: unique symbol };

export interface NativeGcmBinding {
  /** key: 16, 24 or 32 bytes (AES-128/192/256-GCM); salt: 4 bytes (RFC 4106). Copies both into OpenSSL. */
  create(key: Uint8Array, salt: Uint8Array): NativeGcmHandle;
  /**
   * buf[offset..] = SPI ‖ seq ‖ IV(8) ‖ plaintext(`padded` bytes) ‖ 16 bytes for the ICV. Encrypts the plaintext
   * in place and writes the ICV. AAD = SPI ‖ seq, or SPI ‖ seqHigh ‖ seq when seqHigh is a number (ESN).
   */
  seal(h: NativeGcmHandle, buf: Uint8Array, offset: number, padded: number, seqHigh?: number): void;
  /**
   * esp = SPI ‖ seq ‖ IV(8) ‖ ciphertext ‖ ICV(16): decrypts the ciphertext into out[0, ciphertext length) and
   * returns whether the ICV verified (on false, `out` has been zeroed).
   */
  open(h: NativeGcmHandle, esp: Uint8Array, out: Uint8Array, seqHigh?: number): boolean;
}

export interface NativeGcmStatus {
  /** which implementation sealEsp/openEsp use by default */
  backend: 'native' | 'node:crypto';
  /** absolute path of the addon that was (or would have been) loaded */
  path: string;
  /** why the native backend is not used (undefined when it is) */
  reason?: string;
}

export const NATIVE_GCM_BUILD_COMMAND = "npx -c 'node-gyp rebuild -C native/esp'";

const addonPath = fileURLToPath(new URL('../../native/esp/build/Release/esp_gcm.node', import.meta.url));

/** One packet sealed and opened natively must match node:crypto byte for byte (guards against a broken build). */
function selfTest(b: NativeGcmBinding): string | undefined {
  const key = Uint8Array.from({ length: 16 }, (_, i) => 0x30 + i);
  const salt = Uint8Array.of(0xca, 0xfe, 0xba, 0xbe);
  const padded = 64;
  const buf = new Uint8Array(16 + padded + 16);
  for (let i = 0; i < 16 + padded; i++) buf[i] = (i * 7 + 3) & 0xff;
  const plain = buf.slice(16, 16 + padded);
  for (const seqHigh of [undefined, 0x01020304]) {
    const aad =
      seqHigh === undefined
        ? buf.subarray(0, 8)
        : Uint8Array.of(...buf.subarray(0, 4), 1, 2, 3, 4, ...buf.subarray(4, 8));
    const c = createCipheriv('aes-128-gcm', key, Buffer.concat([salt, buf.subarray(8, 16)]), {
      authTagLength: 16,
    });
    c.setAAD(aad);
    const want = Buffer.concat([c.update(plain), c.final(), c.getAuthTag()]);
    const h = b.create(key, salt);
    const got = buf.slice();
    b.seal(h, got, 0, padded, seqHigh);
    if (!want.equals(got.subarray(16)))
      return 'load-time self-test: native ciphertext differs from node:crypto';
    const out = new Uint8Array(padded);
    if (!b.open(h, got, out, seqHigh) || !Buffer.from(out).equals(plain))
      return 'load-time self-test: native open did not recover the plaintext';
    got[20] ^= 1;
    if (b.open(h, got, out, seqHigh)) return 'load-time self-test: native open accepted a tampered packet';
  }
  return undefined;
}

function load(): { binding: NativeGcmBinding | null; status: NativeGcmStatus } {
  const off = (reason: string) => ({
    binding: null,
    status: { backend: 'node:crypto' as const, path: addonPath, reason },
  });
  const env = process.env.CHAINPROBE_NO_NATIVE;
  if (env && env !== '0' && env !== 'false') return off('disabled by CHAINPROBE_NO_NATIVE');
  if (!existsSync(addonPath))
    return off(`addon not built (${addonPath} missing; ${NATIVE_GCM_BUILD_COMMAND})`);
  let binding: NativeGcmBinding;
  try {
    binding = createRequire(import.meta.url)(addonPath) as NativeGcmBinding;
  } catch (e) {
    return off(`addon failed to load: ${(e as Error).message.split('\n')[0]}`);
  }
  if (
    typeof binding?.create !== 'function' ||
    typeof binding.seal !== 'function' ||
    typeof binding.open !== 'function'
  )
    return off('addon does not export create/seal/open');
  let failed: string | undefined;
  try {
    failed = selfTest(binding);
  } catch (e) {
    failed = `load-time self-test threw: ${(e as Error).message}`;
  }
  if (failed) return off(failed);
  return { binding, status: { backend: 'native', path: addonPath } };
}

const loaded = load();

/** The addon, or null (then `nativeGcmStatus.reason` says why). */
export const nativeGcm: NativeGcmBinding | null = loaded.binding;
export const nativeGcmStatus: Readonly<NativeGcmStatus> = Object.freeze(loaded.status);
