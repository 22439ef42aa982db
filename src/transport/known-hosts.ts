/**
 * OpenSSH host-key verification without OpenSSH: parse known_hosts (plain, wildcard, negated, hashed
 * `|1|salt|hmac` names, `[host]:port` for non-22 ports, @revoked) and compare the key the server presented,
 * or compare it with a pinned "SHA256:…" fingerprint (the form `ssh-keygen -lf` prints).
 */
import { createHash, createHmac } from 'node:crypto';

export interface KnownHostEntry {
  marker?: 'cert-authority' | 'revoked';
  patterns: string[];
  keyType: string;
  key: Buffer;
  line: number;
}

export function parseKnownHosts(text: string): KnownHostEntry[] {
  const out: KnownHostEntry[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (!line || line.startsWith('#')) return;
    const f = line.split(/\s+/);
    let marker: KnownHostEntry['marker'];
    if (f[0] === '@cert-authority' || f[0] === '@revoked')
      marker = f.shift()!.slice(1) as KnownHostEntry['marker'];
    if (f.length < 3) return;
    const key = Buffer.from(f[2], 'base64');
    if (key.length === 0) return;
    out.push({ marker, patterns: f[0].split(','), keyType: f[1], key, line: i + 1 });
  });
  return out;
}

/** The name OpenSSH looks up: "host" on port 22, "[host]:port" otherwise. */
export function knownHostsName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

function globMatch(pattern: string, name: string): boolean {
  const re = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${re}$`, 'i').test(name);
}

function patternMatches(pattern: string, name: string): boolean {
  if (pattern.startsWith('|1|')) {
    const [, , salt, hash] = pattern.split('|');
    if (!salt || !hash) return false;
    const mac = createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest('base64');
    return mac === hash;
  }
  return globMatch(pattern, name);
}

/** OpenSSH semantics: any negated pattern that matches excludes the line; otherwise one positive match suffices. */
export function entryMatches(entry: KnownHostEntry, name: string): boolean {
  let positive = false;
  for (const p of entry.patterns) {
    if (p.startsWith('!')) {
      if (patternMatches(p.slice(1), name)) return false;
    } else if (patternMatches(p, name)) positive = true;
  }
  return positive;
}

export type HostKeyVerdict =
  | { ok: true; line: number }
  | { ok: false; reason: 'unknown' | 'mismatch' | 'revoked'; lines: number[] };

export function checkKnownHost(
  entries: KnownHostEntry[],
  host: string,
  port: number,
  presented: Buffer,
): HostKeyVerdict {
  const name = knownHostsName(host, port);
  const revoked = entries.filter((e) => e.marker === 'revoked' && e.key.equals(presented));
  if (revoked.length) return { ok: false, reason: 'revoked', lines: revoked.map((e) => e.line) };
  // @cert-authority lines vouch for certificates; plain host keys are not certificates, so they never match.
  const forHost = entries.filter((e) => !e.marker && entryMatches(e, name));
  const hit = forHost.find((e) => e.key.equals(presented));
  if (hit) return { ok: true, line: hit.line };
  return { ok: false, reason: forHost.length ? 'mismatch' : 'unknown', lines: forHost.map((e) => e.line) };
}

/** "SHA256:" + unpadded base64 of the SHA-256 of the public key blob, as `ssh-keygen -l` prints. */
export function fingerprintSha256(keyBlob: Buffer): string {
  return `SHA256:${createHash('sha256').update(keyBlob).digest('base64').replace(/=+$/, '')}`;
}

export function fingerprintsEqual(a: string, b: string): boolean {
  return a.replace(/=+$/, '') === b.replace(/=+$/, '');
}

/** The key type inside an SSH public key blob (string length-prefixed), for messages. */
export function keyTypeOf(keyBlob: Buffer): string {
  if (keyBlob.length < 4) return 'unknown';
  const n = keyBlob.readUInt32BE(0);
  return keyBlob.subarray(4, 4 + n).toString('latin1');
}
