/**
 * Shared helpers for reading vppctl output: VPP's CLI answers with CRLF line ends, no final newline, and
 * centred fixed-width columns that it truncates to their width (format.c `%=35s`).
 */
import { ChainprobeError } from '../../../errors.ts';

/** The output's lines without CR, trailing blanks kept out of the way. */
export function vppLines(text: string): string[] {
  return text.replace(/\r/g, '').split('\n');
}

/** VPP answered something this parser does not recognise: never read as "nothing counted". */
export function unrecognised(command: string, why: string, text: string): ChainprobeError {
  const first = vppLines(text).find((l) => l.trim() !== '') ?? '(empty output)';
  return new ChainprobeError(
    'E_VPP_OUTPUT',
    `\`${command}\`: ${why} (VPP said: ${first.trim().slice(0, 120)})`,
    false,
    {
      command,
    },
  );
}

/**
 * Columns of a table VPP prints with fixed widths (from its format string, e.g. `%=10s%=35s`), checked
 * against the header so a changed layout fails loudly instead of shifting every value by some characters.
 */
export function fixedColumns(
  command: string,
  header: string,
  columns: readonly { title: string; width: number }[],
): (line: string) => string[] {
  let start = 0;
  const bounds = columns.map(({ title, width }) => {
    const cell = header.slice(start, start + width);
    if (cell.trim() !== title)
      throw unrecognised(command, `header column "${title}" not where VPP puts it`, header);
    const b = [start, start + width] as const;
    start += width;
    return b;
  });
  return (line) =>
    bounds.map(([from, to], i) => (i === bounds.length - 1 ? line.slice(from) : line.slice(from, to)).trim());
}

/** A non-negative integer VPP printed, or a typed error naming the field. */
export function count(command: string, field: string, value: string | undefined): number {
  if (value === undefined || !/^\d+$/.test(value))
    throw unrecognised(command, `${field} is not a count: "${value}"`, value ?? '');
  return Number(value);
}

/** `key value key value …` pairs (NAT44 session flows: `saddr A sport P daddr B dport Q …`). */
export function keyValues(line: string): Record<string, string> {
  const out: Record<string, string> = {};
  const words = line.trim().split(/\s+/);
  for (let i = 0; i + 1 < words.length; i += 2) out[words[i] as string] = words[i + 1] as string;
  return out;
}

/**
 * One object per line, `[N] key value key value …` (`show vxlan tunnel`, `show ipip tunnel`); none when VPP
 * says "No … tunnels configured...". `read` gets each line's fields by key.
 */
export function tunnelLines<T>(
  command: string,
  text: string,
  read: (field: (key: string) => string) => T,
): T[] {
  if (/^No \S+ tunnels configured/im.test(text)) return [];
  return vppLines(text)
    .filter((l) => l.trim() !== '')
    .map((line) => {
      const words = line
        .trim()
        .replace(/^\[\d+\]\s*/, '')
        .split(/\s+/);
      return read((key) => {
        const at = words.indexOf(key);
        const v = at < 0 ? undefined : words[at + 1];
        if (v === undefined) throw unrecognised(command, `tunnel without "${key}"`, line);
        return v;
      });
    });
}
