/**
 * RFC 4303 tunnel-mode ESP with AES-GCM-128 (RFC 4106), as a transform between two packets (STYLE A2):
 * the `esp` header codec knows only SPI/seq; this SA owns key, salt, SPI, the sequence counter, the tunnel
 * header and the encapsulation (raw ESP, IP protocol 50, or RFC 3948 ESP-in-UDP as strongSwan's libipsec
 * always uses — REFCHAIN G1).
 *
 *   const sa = new EspSa({ spi: 1000, key, salt, tunnelSrc: '172.20.103.1', tunnelDst: '172.20.103.2',
 *                          encapsulation: { kind: 'udp', srcPort: 4500, dstPort: 4500 }, ttl: 64 });
 *   const outer = sa.encrypt(innerIp);           // complete outer IPv4 packet
 *   const { inner } = sa.decrypt(outer);         // inner equals innerIp byte for byte
 *
 * Wire layout of the ESP part (RFC 4106 §3, §4):
 *   SPI(4) ‖ seq(4) ‖ IV(8) ‖ AES-GCM( payload ‖ pad 1,2,3… ‖ padLength(1) ‖ nextHeader(1) ) ‖ ICV(16)
 *   nonce = salt(4) ‖ IV(8);  AAD = SPI ‖ seq (8 bytes), or SPI ‖ seqHigh ‖ seqLow with ESN (12 bytes).
 * The seal/open functions take `seqHigh` so ESN is a parameter, not a new code path; the SA itself runs
 * 32-bit sequence numbers (no ESN) and refuses to wrap.
 *
 * Secrets: the key lives in a KeyObject in a private field; `toString`, `toJSON` and `util.inspect` render only
 * the SPI and tunnel, and no error message ever includes key or salt bytes.
 *
 * Crypto backend: when the optional native addon (native/esp, see native-gcm.ts) is built, an SA keeps one
 * OpenSSL GCM context with the key set once and each packet is one call into C (~3× node:crypto, which must
 * build a cipher per packet); otherwise, or with `backend: 'node:crypto'` / CHAINPROBE_NO_NATIVE=1, node:crypto.
 * Both produce identical bytes and identical errors. The native handle is an opaque External (no key inside JS).
 */
import {
  createCipheriv,
  createDecipheriv,
  createSecretKey,
  type KeyObject,
  randomFillSync,
} from 'node:crypto';
import { inspect } from 'node:util';
import { ipv4ToString } from '../codec/address.ts';
import { readU16, readU32, writeU16, writeU32 } from '../codec/bytes.ts';
import {
  fillIpv4Checksum,
  IP_PROTO_ESP,
  IP_PROTO_IPV4,
  IP_PROTO_UDP,
  IPV4_HEADER_BYTES,
  ipv4Number,
  ipv4PacketHeaderBytes,
  isIpv4Fragment,
} from '../codec/ipv4.ts';
import { ChainprobeError } from '../errors.ts';
import { type NativeGcmHandle, nativeGcm, nativeGcmStatus } from './native-gcm.ts';

/** Algorithm parameters as data (STYLE A2's registry): adding AES-GCM-256 is one more record. */
export interface AeadAlgorithm {
  name: string;
  cipher: 'aes-128-gcm' | 'aes-192-gcm' | 'aes-256-gcm';
  keyBytes: number;
  saltBytes: number;
  ivBytes: number;
  icvBytes: number;
  /** ESP payload alignment (RFC 4303 §2.4: at least 4 bytes; GCM is a stream cipher so 4 suffices). */
  blockBytes: number;
}

export const AES_GCM_128: AeadAlgorithm = {
  name: 'aes-gcm-128',
  cipher: 'aes-128-gcm',
  keyBytes: 16,
  saltBytes: 4,
  ivBytes: 8,
  icvBytes: 16,
  blockBytes: 4,
};

export const ESP_HEADER_BYTES = 8;
export const UDP_HEADER_BYTES = 8;
export const NAT_T_PORT = 4500;

export type EspErrorReason =
  | 'wrong-spi'
  | 'auth-failed'
  | 'malformed'
  | 'bad-padding'
  | 'not-esp'
  | 'fragmented'
  | 'wrong-encapsulation'
  | 'unexpected-next-header'
  | 'seq-overflow';

/** Every ESP failure. `reason` is stable (the analyser counts it); the message never contains key material. */
export class EspError extends ChainprobeError {
  constructor(
    readonly reason: EspErrorReason,
    message: string,
    readonly spi?: number,
    readonly seq?: number,
  ) {
    super('E_ESP', message, false, { reason, spi, seq });
    this.name = 'EspError';
  }
}

const hex32 = (v: number) => `0x${(v >>> 0).toString(16).padStart(8, '0')}`;

// ---------------------------------------------------------------------------------------------------------
// Low level: seal/open one ESP payload (SPI … ICV), used by EspSa and by the analyser.

export interface EspKeys {
  /** 16-byte AES key (or a KeyObject made from it). */
  key: Uint8Array | KeyObject;
  /** 4-byte RFC 4106 salt. */
  salt: Uint8Array;
  algorithm?: AeadAlgorithm;
  /** 'auto' (default): the native addon when loaded (for a Uint8Array key), else node:crypto */
  backend?: EspBackendChoice;
}

/** Which AES-GCM implementation to use: 'auto' prefers the native addon (native-gcm.ts) when it is loaded. */
export type EspBackendChoice = 'auto' | 'node:crypto';

/** The implementation sealEsp/openEsp use by default in this process, and why not native when not. */
export const espCryptoBackend: Readonly<{ backend: 'native' | 'node:crypto'; reason?: string }> =
  Object.freeze({
    backend: nativeGcmStatus.backend,
    reason: nativeGcmStatus.reason,
  });

/** Where EspSa keeps its native context, next to its KeyObject in the private #keys (never enumerated). */
const NATIVE_CTX: unique symbol = Symbol('esp.nativeGcm');
type SaKeys = EspKeys & { [NATIVE_CTX]?: NativeGcmHandle };

const GCM_KEY_BYTES: Record<AeadAlgorithm['cipher'], number> = {
  'aes-128-gcm': 16,
  'aes-192-gcm': 24,
  'aes-256-gcm': 32,
};

function nativeSupports(alg: AeadAlgorithm): boolean {
  return (
    alg.saltBytes === 4 &&
    alg.ivBytes === 8 &&
    alg.icvBytes === 16 &&
    GCM_KEY_BYTES[alg.cipher] === alg.keyBytes
  );
}

/**
 * The native context for these keys, or undefined for node:crypto. EspSa's keys carry one made at construction;
 * a caller's own Uint8Array key gets a one-shot context (its bytes may change between calls, so nothing is
 * cached); a caller's KeyObject stays with node:crypto (the native path would have to export the key).
 */
function nativeContext(keys: EspKeys, alg: AeadAlgorithm): NativeGcmHandle | undefined {
  if (nativeGcm === null || keys.backend === 'node:crypto' || !nativeSupports(alg)) return undefined;
  const own = (keys as SaKeys)[NATIVE_CTX];
  if (own !== undefined) return own;
  if (keys.key instanceof Uint8Array) return nativeGcm.create(keys.key, keys.salt);
  return undefined;
}

export interface EspSealFields {
  spi: number;
  /** low 32 bits of the sequence number (what is on the wire) */
  seq: number;
  /** high 32 bits with ESN (RFC 4303 §2.2.1; only in the AAD, never on the wire); omit without ESN */
  seqHigh?: number;
  /** explicit 8-byte IV; must never repeat under one key */
  iv: Uint8Array;
}

/** Bytes of the ESP part (header, IV, padded ciphertext, ICV) for a payload of `payloadBytes`. */
export function espLength(payloadBytes: number, alg: AeadAlgorithm = AES_GCM_128): number {
  return ESP_HEADER_BYTES + alg.ivBytes + paddedLength(payloadBytes, alg) + alg.icvBytes;
}

/** payload + pad + 2 trailer bytes, aligned to the algorithm's block (4 for GCM). */
export function paddedLength(payloadBytes: number, alg: AeadAlgorithm = AES_GCM_128): number {
  const b = alg.blockBytes;
  return Math.ceil((payloadBytes + 2) / b) * b;
}

// Scratch buffers: createCipheriv copies nonce and AAD, so one per module is safe (single-threaded).
const nonceScratch = Buffer.alloc(12);
const aadScratch = Buffer.alloc(12);

function nonceFor(salt: Uint8Array, iv: Uint8Array): Buffer {
  nonceScratch.set(salt, 0);
  nonceScratch.set(iv, 4);
  return nonceScratch;
}

function checkKeys(keys: EspKeys, alg: AeadAlgorithm): void {
  if (!(keys.salt instanceof Uint8Array) || keys.salt.length !== alg.saltBytes)
    throw new RangeError(`${alg.name}: salt must be ${alg.saltBytes} bytes`);
  if (keys.key instanceof Uint8Array && keys.key.length !== alg.keyBytes)
    throw new RangeError(`${alg.name}: key must be ${alg.keyBytes} bytes (got ${keys.key.length})`);
}

/**
 * Encrypts `payload` (for tunnel mode: the inner IP packet) into ESP. Writes into `out` at `offset` when given
 * (zero-copy into a pre-built outer packet; needs espLength(payload.length) bytes), else allocates.
 * Returns the view of the ESP bytes. Padding is RFC 4303's monotonic 1, 2, 3, … to 4-byte alignment.
 */
export function sealEsp(
  keys: EspKeys,
  fields: EspSealFields,
  payload: Uint8Array,
  nextHeader: number = IP_PROTO_IPV4,
  out?: Uint8Array,
  offset = 0,
): Uint8Array {
  const alg = keys.algorithm ?? AES_GCM_128;
  checkKeys(keys, alg);
  if (fields.iv.length !== alg.ivBytes) throw new RangeError(`${alg.name}: IV must be ${alg.ivBytes} bytes`);
  const total = espLength(payload.length, alg);
  const buf = out ?? new Uint8Array(total);
  if (buf.length - offset < total)
    throw new RangeError(`sealEsp: output needs ${total} bytes at offset ${offset}`);
  writeU32(buf, offset, fields.spi >>> 0);
  writeU32(buf, offset + 4, fields.seq >>> 0);
  buf.set(fields.iv, offset + 8);
  // Build the plaintext (payload ‖ pad ‖ padLength ‖ nextHeader) where the ciphertext goes, then encrypt it in one
  // update call (each call into OpenSSL costs more than the 1.4 kB memcpy).
  const padded = paddedLength(payload.length, alg);
  const padBytes = padded - payload.length - 2;
  const ctStart = offset + ESP_HEADER_BYTES + alg.ivBytes;
  buf.set(payload, ctStart);
  let p = ctStart + payload.length;
  for (let i = 1; i <= padBytes; i++) buf[p++] = i;
  buf[p++] = padBytes;
  buf[p] = nextHeader;

  const ctx = nativeContext(keys, alg);
  if (ctx !== undefined) {
    // one call: nonce, AAD (with ESN high bits when given), in-place encryption, ICV after the ciphertext
    (nativeGcm as NonNullable<typeof nativeGcm>).seal(
      ctx,
      buf,
      offset,
      padded,
      fields.seqHigh === undefined ? undefined : fields.seqHigh >>> 0,
    );
    return buf.subarray(offset, offset + total);
  }
  let aad: Uint8Array;
  if (fields.seqHigh === undefined) aad = buf.subarray(offset, offset + 8);
  else {
    writeU32(aadScratch, 0, fields.spi >>> 0);
    writeU32(aadScratch, 4, fields.seqHigh >>> 0);
    writeU32(aadScratch, 8, fields.seq >>> 0);
    aad = aadScratch;
  }
  const cipher = createCipheriv(alg.cipher, keys.key, nonceFor(keys.salt, fields.iv), {
    authTagLength: alg.icvBytes,
  });
  cipher.setAAD(aad);
  const ct = cipher.update(buf.subarray(ctStart, ctStart + padded));
  buf.set(ct, ctStart);
  const rest = cipher.final();
  if (rest.length) buf.set(rest, ctStart + ct.length);
  buf.set(cipher.getAuthTag(), ctStart + padded);
  return buf.subarray(offset, offset + total);
}

export interface OpenedEsp {
  spi: number;
  seq: number;
  iv: Uint8Array;
  /** decrypted payload without padding and trailer (for tunnel mode: the inner IP packet) */
  payload: Uint8Array;
  nextHeader: number;
  padLength: number;
}

function authFailed(spi: number, seq: number): EspError {
  return new EspError(
    'auth-failed',
    `ESP SPI ${hex32(spi)} seq ${seq}: integrity check (ICV) failed`,
    spi,
    seq,
  );
}

/** Reads SPI and seq of an ESP payload without decrypting (throws EspError 'malformed' if too short). */
export function peekEsp(esp: Uint8Array): { spi: number; seq: number } {
  if (esp.length < ESP_HEADER_BYTES)
    throw new EspError('malformed', `ESP: ${esp.length} bytes, header needs 8`);
  return { spi: readU32(esp, 0), seq: readU32(esp, 4) };
}

/**
 * Authenticates and decrypts an ESP payload (SPI … ICV). Throws EspError: 'malformed' (too short),
 * 'wrong-spi' (when `expectSpi` is given and differs), 'auth-failed' (ICV mismatch: wrong key, salt,
 * ESN high bits or tampering), 'bad-padding' (pad length too large or pad bytes not 1, 2, 3, …).
 */
export function openEsp(
  keys: EspKeys,
  esp: Uint8Array,
  opts: { seqHigh?: number; expectSpi?: number } = {},
): OpenedEsp {
  const alg = keys.algorithm ?? AES_GCM_128;
  checkKeys(keys, alg);
  const { spi, seq } = peekEsp(esp);
  if (opts.expectSpi !== undefined && spi !== opts.expectSpi >>> 0)
    throw new EspError(
      'wrong-spi',
      `ESP SPI ${hex32(spi)} is not this SA's ${hex32(opts.expectSpi)}`,
      spi,
      seq,
    );
  const ctStart = ESP_HEADER_BYTES + alg.ivBytes;
  const ctBytes = esp.length - ctStart - alg.icvBytes;
  if (ctBytes < 2)
    throw new EspError(
      'malformed',
      `ESP SPI ${hex32(spi)} seq ${seq}: ${esp.length} bytes cannot hold IV, trailer and ICV`,
      spi,
      seq,
    );
  const iv = esp.subarray(ESP_HEADER_BYTES, ctStart);
  let plain: Uint8Array;
  const ctx = nativeContext(keys, alg);
  if (ctx !== undefined) {
    // own ArrayBuffer (not the Buffer pool), like node:crypto's output: the payload never shares memory
    plain = new Uint8Array(ctBytes);
    const ok = (nativeGcm as NonNullable<typeof nativeGcm>).open(
      ctx,
      esp,
      plain,
      opts.seqHigh === undefined ? undefined : opts.seqHigh >>> 0,
    );
    if (!ok) throw authFailed(spi, seq);
  } else {
    let aad: Uint8Array;
    if (opts.seqHigh === undefined) aad = esp.subarray(0, 8);
    else {
      writeU32(aadScratch, 0, spi);
      writeU32(aadScratch, 4, opts.seqHigh >>> 0);
      writeU32(aadScratch, 8, seq);
      aad = aadScratch;
    }
    const decipher = createDecipheriv(alg.cipher, keys.key, nonceFor(keys.salt, iv), {
      authTagLength: alg.icvBytes,
    });
    decipher.setAAD(aad);
    decipher.setAuthTag(esp.subarray(ctStart + ctBytes));
    plain = decipher.update(esp.subarray(ctStart, ctStart + ctBytes));
    try {
      decipher.final();
    } catch {
      throw authFailed(spi, seq);
    }
  }
  const padLength = plain[ctBytes - 2];
  const nextHeader = plain[ctBytes - 1];
  const payloadBytes = ctBytes - 2 - padLength;
  if (payloadBytes < 0)
    throw new EspError(
      'bad-padding',
      `ESP SPI ${hex32(spi)} seq ${seq}: pad length ${padLength} exceeds the ${ctBytes}-byte payload`,
      spi,
      seq,
    );
  for (let i = 0; i < padLength; i++) {
    if (plain[payloadBytes + i] !== i + 1)
      throw new EspError(
        'bad-padding',
        `ESP SPI ${hex32(spi)} seq ${seq}: pad byte ${i + 1} is ${plain[payloadBytes + i]} (RFC 4303 wants 1, 2, 3, …)`,
        spi,
        seq,
      );
  }
  return {
    spi,
    seq,
    iv,
    payload: new Uint8Array(plain.buffer, plain.byteOffset, payloadBytes),
    nextHeader,
    padLength,
  };
}

// ---------------------------------------------------------------------------------------------------------
// The SA: tunnel header, encapsulation, sequence counter.

export type EspEncapsulation = { kind: 'none' } | { kind: 'udp'; srcPort: number; dstPort: number };

export interface EspSaOptions {
  spi: number;
  /** 16-byte AES key */
  key: Uint8Array;
  /** 4-byte RFC 4106 salt (VPP's default is 0) */
  salt: Uint8Array;
  tunnelSrc: string | number;
  tunnelDst: string | number;
  encapsulation: EspEncapsulation;
  ttl?: number;
  /** 'counter' (default, VPP/strongSwan convention): IV = 64-bit sequence number; 'random': 8 random bytes */
  ivMode?: 'counter' | 'random';
  /** first sequence number to send (RFC 4303: 1) */
  firstSeq?: number;
  /** first outer IP ID (then +1 per packet, wrapping at 16 bits) */
  firstIpId?: number;
  /** DF on the outer header (default false: REFCHAIN G3 runs with ip_no_pmtu_disc=1, VPP does not set DF) */
  dontFragment?: boolean;
  /** outer TOS/DSCP byte (default 0) */
  tos?: number;
  /** AES-GCM implementation: 'auto' (default: native addon when loaded) or 'node:crypto' */
  backend?: EspBackendChoice;
}

export interface EncryptOptions {
  /** explicit sequence number (does not move the SA's counter) */
  seq?: number;
  /** explicit 8-byte IV (tests only: repeating an IV under one key breaks GCM) */
  iv?: Uint8Array;
  /** explicit outer IP ID (does not move the SA's counter) */
  ipId?: number;
}

export interface DecryptResult {
  /** the inner IP packet (a fresh buffer, not a view of the input) */
  inner: Uint8Array;
  spi: number;
  seq: number;
  nextHeader: number;
  padLength: number;
}

const randomPool = Buffer.alloc(4096);
let randomPos = randomPool.length;
function randomIv(): Uint8Array {
  if (randomPos + 8 > randomPool.length) {
    randomFillSync(randomPool);
    randomPos = 0;
  }
  const iv = randomPool.subarray(randomPos, randomPos + 8);
  randomPos += 8;
  return iv;
}

export class EspSa {
  readonly spi: number;
  readonly algorithm: AeadAlgorithm = AES_GCM_128;
  readonly tunnelSrc: number;
  readonly tunnelDst: number;
  readonly encapsulation: Readonly<EspEncapsulation>;
  readonly ttl: number;
  readonly ivMode: 'counter' | 'random';
  readonly dontFragment: boolean;
  readonly tos: number;
  readonly #keys: {
    key: KeyObject;
    salt: Uint8Array;
    algorithm: AeadAlgorithm;
    [NATIVE_CTX]?: NativeGcmHandle;
  };
  #nextSeq: number;
  #nextIpId: number;
  readonly #ivScratch = new Uint8Array(8);

  constructor(o: EspSaOptions) {
    const alg = this.algorithm;
    if (!Number.isInteger(o.spi) || o.spi < 0 || o.spi > 0xffffffff)
      throw new RangeError(`EspSa: SPI ${o.spi} is not a 32-bit value`);
    if (o.spi < 256)
      throw new RangeError(`EspSa: SPI ${o.spi} is reserved (RFC 4303: 1-255 are reserved, 0 is never sent)`);
    if (!(o.key instanceof Uint8Array) || o.key.length !== alg.keyBytes)
      throw new RangeError(`EspSa: key must be ${alg.keyBytes} bytes`);
    if (!(o.salt instanceof Uint8Array) || o.salt.length !== alg.saltBytes)
      throw new RangeError(`EspSa: salt must be ${alg.saltBytes} bytes`);
    const ttl = o.ttl ?? 64;
    if (!Number.isInteger(ttl) || ttl < 1 || ttl > 255)
      throw new RangeError(`EspSa: ttl ${ttl} not in 1..255`);
    if (o.encapsulation.kind === 'udp') {
      for (const p of [o.encapsulation.srcPort, o.encapsulation.dstPort])
        if (!Number.isInteger(p) || p < 1 || p > 65535)
          throw new RangeError(`EspSa: UDP port ${p} not in 1..65535`);
    }
    this.spi = o.spi >>> 0;
    this.tunnelSrc = ipv4Number(o.tunnelSrc);
    this.tunnelDst = ipv4Number(o.tunnelDst);
    this.encapsulation = Object.freeze({ ...o.encapsulation });
    this.ttl = ttl;
    this.ivMode = o.ivMode ?? 'counter';
    this.dontFragment = o.dontFragment ?? false;
    this.tos = o.tos ?? 0;
    this.#keys = { key: createSecretKey(Buffer.from(o.key)), salt: Uint8Array.from(o.salt), algorithm: alg };
    if (nativeGcm !== null && o.backend !== 'node:crypto' && nativeSupports(alg)) {
      try {
        this.#keys[NATIVE_CTX] = nativeGcm.create(o.key, this.#keys.salt);
      } catch {
        // OpenSSL context set-up failed (out of memory): this SA stays on node:crypto
      }
    }
    this.#nextSeq = o.firstSeq ?? 1;
    this.#nextIpId = (o.firstIpId ?? 1) & 0xffff;
  }

  /** Which AES-GCM implementation this SA uses. */
  get backend(): 'native' | 'node:crypto' {
    return this.#keys[NATIVE_CTX] !== undefined ? 'native' : 'node:crypto';
  }

  /** The sequence number the next `encrypt` without an explicit `seq` will use. */
  get nextSeq(): number {
    return this.#nextSeq;
  }

  /** Outer header bytes added in front of the ESP part: IPv4 (20) + UDP (8) for NAT-T. */
  get outerHeaderBytes(): number {
    return IPV4_HEADER_BYTES + (this.encapsulation.kind === 'udp' ? UDP_HEADER_BYTES : 0);
  }

  /** Size of the outer packet for an inner packet of `innerBytes` (for MTU planning). */
  outerLength(innerBytes: number): number {
    return this.outerHeaderBytes + espLength(innerBytes, this.algorithm);
  }

  /** Encrypts one inner IP packet into a complete outer IPv4 packet (new buffer). */
  encrypt(innerIp: Uint8Array, opts: EncryptOptions = {}): Uint8Array {
    let seq: number;
    if (opts.seq !== undefined) seq = opts.seq;
    else {
      seq = this.#nextSeq;
      if (seq > 0xffffffff)
        throw new EspError(
          'seq-overflow',
          `ESP SPI ${hex32(this.spi)}: 32-bit sequence number exhausted; rekey (no ESN)`,
          this.spi,
        );
      this.#nextSeq = seq + 1;
    }
    let ipIdValue: number;
    if (opts.ipId !== undefined) ipIdValue = opts.ipId & 0xffff;
    else {
      ipIdValue = this.#nextIpId;
      this.#nextIpId = (ipIdValue + 1) & 0xffff;
    }
    let iv: Uint8Array;
    if (opts.iv) iv = opts.iv;
    else if (this.ivMode === 'random') iv = randomIv();
    else {
      iv = this.#ivScratch;
      writeU32(iv, 0, Math.floor(seq / 0x100000000)); // high 32 bits (0 without ESN)
      writeU32(iv, 4, seq >>> 0);
    }
    const nextHeader = innerIp.length > 0 && innerIp[0] >> 4 === 6 ? 41 : IP_PROTO_IPV4;
    const udp = this.encapsulation.kind === 'udp';
    const hdr = this.outerHeaderBytes;
    const total = hdr + espLength(innerIp.length, this.algorithm);
    if (total > 0xffff) throw new RangeError(`EspSa: outer packet would be ${total} bytes (> 65535)`);
    // allocUnsafe (pooled, not zero-filled): every byte is written below or by sealEsp.
    const out: Uint8Array = Buffer.allocUnsafe(total);
    out[0] = 0x45;
    out[1] = this.tos;
    writeU16(out, 2, total);
    writeU16(out, 4, ipIdValue);
    out[6] = this.dontFragment ? 0x40 : 0;
    out[7] = 0;
    out[8] = this.ttl;
    out[9] = udp ? IP_PROTO_UDP : IP_PROTO_ESP;
    writeU32(out, 12, this.tunnelSrc);
    writeU32(out, 16, this.tunnelDst);
    fillIpv4Checksum(out, 0);
    if (this.encapsulation.kind === 'udp') {
      writeU16(out, 20, this.encapsulation.srcPort);
      writeU16(out, 22, this.encapsulation.dstPort);
      writeU16(out, 24, total - 20);
      writeU16(out, 26, 0); // checksum 0: RFC 3948 §2.1 says it SHOULD be zero on transmit
    }
    sealEsp(this.#keys, { spi: this.spi, seq: seq >>> 0, iv }, innerIp, nextHeader, out, hdr);
    return out;
  }

  /**
   * Decrypts one complete (unfragmented) outer IPv4 packet addressed to this SA. Reassemble outer fragments
   * first (see fragment.ts). Throws EspError (never anything else for bad input): 'fragmented', 'not-esp',
   * 'wrong-encapsulation', 'malformed', 'wrong-spi', 'auth-failed', 'bad-padding', 'unexpected-next-header'.
   */
  decrypt(outerIp: Uint8Array): DecryptResult {
    let ihl: number;
    try {
      ihl = ipv4PacketHeaderBytes(outerIp, 0, outerIp.length, 'esp-outer-ipv4');
    } catch (e) {
      throw new EspError('malformed', `outer packet: ${(e as Error).message}`);
    }
    const total = readU16(outerIp, 2);
    if (isIpv4Fragment(outerIp, 0))
      throw new EspError('fragmented', 'outer packet is an IP fragment: reassemble before decrypting');
    const proto = outerIp[9];
    let espStart: number;
    if (proto === IP_PROTO_UDP) {
      if (total < ihl + UDP_HEADER_BYTES) throw new EspError('malformed', 'outer UDP header truncated');
      const udpLen = readU16(outerIp, ihl + 4);
      if (udpLen !== total - ihl)
        throw new EspError('malformed', `outer UDP length ${udpLen} ≠ IP payload ${total - ihl}`);
      espStart = ihl + UDP_HEADER_BYTES;
      if (total - espStart >= 4 && readU32(outerIp, espStart) === 0)
        throw new EspError('not-esp', 'UDP payload starts with the non-ESP marker (IKE on port 4500)');
      if (this.encapsulation.kind !== 'udp')
        throw new EspError('wrong-encapsulation', 'ESP-in-UDP packet for an SA without UDP encapsulation');
    } else if (proto === IP_PROTO_ESP) {
      espStart = ihl;
      if (this.encapsulation.kind !== 'none')
        throw new EspError('wrong-encapsulation', 'raw ESP (protocol 50) packet for a UDP-encapsulated SA');
    } else throw new EspError('not-esp', `outer IP protocol ${proto} is neither ESP (50) nor UDP (17)`);
    const opened = openEsp(this.#keys, outerIp.subarray(espStart, total), { expectSpi: this.spi });
    if (opened.nextHeader !== IP_PROTO_IPV4 && opened.nextHeader !== 41)
      throw new EspError(
        'unexpected-next-header',
        `ESP SPI ${hex32(opened.spi)} seq ${opened.seq}: next header ${opened.nextHeader}, tunnel mode expects 4 (IPv4) or 41 (IPv6)`,
        opened.spi,
        opened.seq,
      );
    return {
      inner: opened.payload,
      spi: opened.spi,
      seq: opened.seq,
      nextHeader: opened.nextHeader,
      padLength: opened.padLength,
    };
  }

  /** Seal/open with this SA's keys on just the ESP part (for the analyser). */
  seal(fields: EspSealFields, payload: Uint8Array, nextHeader = IP_PROTO_IPV4): Uint8Array {
    return sealEsp(this.#keys, fields, payload, nextHeader);
  }

  open(esp: Uint8Array, opts: { seqHigh?: number } = {}): OpenedEsp {
    return openEsp(this.#keys, esp, { ...opts, expectSpi: this.spi });
  }

  /** A description without secrets. */
  describe(): Record<string, unknown> {
    return {
      spi: hex32(this.spi),
      algorithm: this.algorithm.name,
      tunnelSrc: ipv4ToString(this.tunnelSrc),
      tunnelDst: ipv4ToString(this.tunnelDst),
      encapsulation: { ...this.encapsulation },
      ttl: this.ttl,
      ivMode: this.ivMode,
      nextSeq: this.#nextSeq,
      key: '<redacted>',
    };
  }

  toJSON(): Record<string, unknown> {
    return this.describe();
  }

  toString(): string {
    const d = this.describe();
    return `EspSa(spi=${d.spi} ${d.algorithm} ${d.tunnelSrc}→${d.tunnelDst} ${this.encapsulation.kind === 'udp' ? 'udp-encap' : 'esp'})`;
  }

  [inspect.custom](): string {
    return this.toString();
  }
}

// ---------------------------------------------------------------------------------------------------------
// strongSwan charon log → negotiated CHILD_SA keys (REFCHAIN §"Exporting the negotiated ESP keys").

export interface CharonChildKey {
  /** CHILD_SA name with its unique id, e.g. "net{1}" */
  childSa: string;
  spi: number;
  /** 'initiator-to-responder' is protected by the initiator key */
  direction: 'initiator-to-responder' | 'responder-to-initiator';
  /** relative to the charon that wrote the log */
  local: 'in' | 'out';
  key: Uint8Array;
  salt: Uint8Array;
}

function redact<T extends object>(o: T, describe: () => string): T {
  Object.defineProperty(o, 'toJSON', { value: () => describe(), enumerable: false });
  Object.defineProperty(o, inspect.custom, { value: () => describe(), enumerable: false });
  Object.defineProperty(o, 'toString', { value: () => describe(), enumerable: false });
  return o;
}

/**
 * Extracts CHILD_SA SPIs and AES-GCM keys (16-byte key ‖ 4-byte salt) from a charon file log written with
 * `chd = 4`. Each "CHILD_SA … established with SPIs <in>_i <out>_o" line is paired with the most recent
 * "encryption initiator/responder key" dumps before it. The initiator key protects initiator→responder
 * traffic, so which SPI gets which key depends on this charon's IKE role: given by `role`, or inferred from
 * the log ("initiating IKE_SA" = initiator, "is initiating an IKE_SA" = responder). Later entries for the same
 * SPI replace earlier ones (terminate + initiate reuses pinned SPIs). Returned keys are redacted in
 * JSON/inspect/toString.
 */
export function parseCharonKeys(
  logText: string,
  opts: { role?: 'initiator' | 'responder'; keyBytes?: number } = {},
): CharonChildKey[] {
  const keyBytes = opts.keyBytes ?? 16;
  const lines = logText.split(/\r?\n/);
  let role = opts.role;
  if (!role) {
    for (const l of lines) {
      if (/is initiating an IKE_SA/.test(l)) {
        role = 'responder';
        break;
      }
      if (/\binitiating IKE_SA\b/.test(l)) {
        role = 'initiator';
        break;
      }
    }
  }
  const pending: { initiator?: Uint8Array; responder?: Uint8Array } = {};
  const bySpi = new Map<number, CharonChildKey>();
  const keyHeader = /\[CHD\]\s+encryption (initiator|responder) key => (\d+) bytes/;
  const dumpLine = /\[CHD\]\s+(\d+): ((?:[0-9A-Fa-f]{2} ){0,15}[0-9A-Fa-f]{2})/;
  const established = /CHILD_SA (\S+) established with SPIs ([0-9a-fA-F]{8})_i ([0-9a-fA-F]{8})_o/;
  for (let i = 0; i < lines.length; i++) {
    const h = keyHeader.exec(lines[i]);
    if (h) {
      const want = Number(h[2]);
      const bytes: number[] = [];
      let j = i + 1;
      for (; j < lines.length && bytes.length < want; j++) {
        const d = dumpLine.exec(lines[j]);
        if (!d || Number(d[1]) !== bytes.length) break;
        for (const p of d[2].split(' ')) if (bytes.length < want) bytes.push(Number.parseInt(p, 16));
      }
      if (bytes.length === want) pending[h[1] as 'initiator' | 'responder'] = Uint8Array.from(bytes);
      i = j - 1;
      continue;
    }
    const e = established.exec(lines[i]);
    if (!e) continue;
    if (!pending.initiator || !pending.responder) continue;
    if (!role)
      throw new ChainprobeError(
        'E_CHARON_KEYS',
        'charon log: cannot tell whether this charon was IKE initiator or responder; pass { role }',
        true,
      );
    const inSpi = Number.parseInt(e[2], 16);
    const outSpi = Number.parseInt(e[3], 16);
    const entries: Array<[number, 'in' | 'out']> = [
      [inSpi, 'in'],
      [outSpi, 'out'],
    ];
    for (const [spi, local] of entries) {
      // initiator's outbound and responder's inbound traffic flow initiator → responder
      const i2r = (role === 'initiator') === (local === 'out');
      const material = i2r ? pending.initiator : pending.responder;
      if (material.length < keyBytes) continue;
      const entry: CharonChildKey = {
        childSa: e[1],
        spi,
        direction: i2r ? 'initiator-to-responder' : 'responder-to-initiator',
        local,
        key: material.slice(0, keyBytes),
        salt: material.slice(keyBytes),
      };
      bySpi.set(
        spi,
        redact(
          entry,
          () =>
            `CharonChildKey(${entry.childSa} spi=${hex32(spi)} ${local} ${entry.direction} key=<redacted>)`,
        ),
      );
    }
    pending.initiator = undefined;
    pending.responder = undefined;
  }
  return [...bySpi.values()];
}
