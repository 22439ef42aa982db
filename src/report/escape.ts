/**
 * Escaping and redaction shared by the HTML report, the JUnit writer and the index page. Every string
 * in a results document may come from the network (decoded packets, hop names from a profile), so
 * nothing from it reaches markup unescaped.
 */

const HTML_ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Text or attribute value → HTML. Also safe inside double- or single-quoted attributes. */
export function escapeHtml(value: unknown): string {
  return String(value ?? '').replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]);
}

/**
 * Characters XML 1.0 forbids outright (C0 controls other than tab/LF/CR, lone surrogates, U+FFFE/FFFF):
 * escaping cannot express them, so they are replaced, otherwise one stray byte in a decoded packet
 * would make the whole JUnit file unparseable in CI.
 */
const XML_INVALID =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: these are exactly the characters XML forbids
  /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

export function escapeXml(value: unknown): string {
  return escapeHtml(value).replace(XML_INVALID, '\uFFFD');
}

/**
 * JSON for a `<script type="application/json">` block: `<` is written as \u003c so no string in the
 * data (e.g. "</script><script>…") can end the block; U+2028/2029 for old JS parsers.
 */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

/** Property names that could hold key material. The results schema has none; this guards against a future field or a hand-edited document. */
const SECRET_NAME = /key|psk|secret|passw|token|credential|private/i;

export function isSecretName(name: string): boolean {
  return SECRET_NAME.test(name);
}

/** Deep copy without any property whose name looks like it holds a secret. */
export function redactSecrets<T>(value: T): T {
  if (Array.isArray(value)) return value.map((v) => redactSecrets(v)) as T;
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) if (!isSecretName(k)) out[k] = redactSecrets(v);
    return out as T;
  }
  return value;
}

/** Only relative links and http(s)/file URLs become hrefs; anything else (javascript:, data:) is neutralised. */
export function safeHref(href: string): string {
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(href.trim());
  if (scheme && !/^(https?|file)$/i.test(scheme[1])) return '#';
  return href;
}
