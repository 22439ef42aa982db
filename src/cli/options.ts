/**
 * The one option parser and the validators of every `chainprobe` command. Whatever is wrong with a
 * command line — an unknown or misspelt option, a missing value, a negative or out-of-range number, a
 * path that cannot be written — becomes a UsageError naming the option; the command's usage is attached
 * and main.ts prints both and exits 2. Nothing reaches the user as a stack trace.
 */
import { accessSync, constants, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { type ParseArgsConfig, parseArgs } from 'node:util';
import type { RuntimeSaKey } from '../chain/oracle.ts';
import { UsageError } from './errors.ts';

export type ParseArgsOptionsConfig = NonNullable<ParseArgsConfig['options']>;

const HELP_OPTION: ParseArgsOptionsConfig = { help: { type: 'boolean', short: 'h' } };

type OptionValue<C> = C extends { type: 'boolean' } ? boolean : string;
/** What parseArgs returns for these options: lists for `multiple`, never undefined with a `default`. */
export type ParsedValues<O extends ParseArgsOptionsConfig> = {
  [K in keyof O]: O[K] extends { multiple: true }
    ? OptionValue<O[K]>[]
    : O[K] extends { default: unknown }
      ? OptionValue<O[K]>
      : OptionValue<O[K]> | undefined;
} & { help?: boolean };

export interface CommandSpec<O extends ParseArgsOptionsConfig> {
  /** the full usage text, printed for --help and after every usage error */
  usage: string;
  options: O;
  /** the command takes bare arguments (e.g. `trend HISTORY`); the body gets them, in order */
  positionals?: boolean;
}

/**
 * Parses `args` against the command's options (plus -h/--help, which prints the usage) and runs `body`
 * with the values. A UsageError from the parse or from `body` carries the command's usage.
 */
export async function runCommand<O extends ParseArgsOptionsConfig>(
  args: string[],
  spec: CommandSpec<O>,
  body: (values: ParsedValues<O>, positionals: string[]) => Promise<number>,
): Promise<number> {
  let values: ParsedValues<O>;
  let positionals: string[];
  try {
    const options: ParseArgsOptionsConfig = { ...spec.options, ...HELP_OPTION };
    const parsed = parseArgs({
      args: attachNegativeValues(args, spec.options),
      options,
      strict: true,
      allowPositionals: spec.positionals ?? false,
    });
    values = parsed.values as unknown as ParsedValues<O>;
    positionals = parsed.positionals;
  } catch (e) {
    throw new UsageError(parseErrorText(e, Object.keys(spec.options)), spec.usage);
  }
  if (values.help) {
    console.log(spec.usage);
    return 0;
  }
  try {
    return await body(values, positionals);
  } catch (e) {
    if (e instanceof UsageError && e.usage === undefined) e.usage = spec.usage;
    throw e;
  }
}

/**
 * `--pps -5` → `--pps=-5`: node's parser refuses a value that starts with a dash as ambiguous; a
 * negative number after an option that takes a value is that option's value, and the validator then
 * says what range it must be in.
 */
function attachNegativeValues(args: string[], options: ParseArgsOptionsConfig): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const name = /^--([^=]+)$/.exec(args[i])?.[1];
    const next = args[i + 1];
    if (name && options[name]?.type === 'string' && next !== undefined && /^-\d/.test(next)) {
      out.push(`${args[i]}=${next}`);
      i++;
    } else out.push(args[i]);
  }
  return out;
}

function parseErrorText(e: unknown, known: string[]): string {
  const err = e as { code?: string; message?: string };
  const quoted = /'([^']+)'/.exec(err.message ?? '')?.[1] ?? '';
  switch (err.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION': {
      const close = closest(quoted.replace(/^-+/, ''), known);
      return `unknown option ${quoted}${close ? ` (did you mean --${close}?)` : ''}`;
    }
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE': {
      // node names it "--count <value>" or "-h, --help"
      const option = /--[\w-]+/.exec(quoted)?.[0] ?? quoted.split(' ')[0];
      return /does not take/.test(err.message ?? '') ? `${option} takes no value` : `${option} needs a value`;
    }
    case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL':
      return `unexpected argument "${quoted}" (every value follows its --option)`;
    default:
      return err.message ?? String(e);
  }
}

/** The known option within two edits of `name` (a typo), if any. */
function closest(name: string, known: string[]): string | undefined {
  let best: { option: string; d: number } | undefined;
  for (const option of known) {
    const d = editDistance(name, option);
    if (d <= 2 && (!best || d < best.d)) best = { option, d };
  }
  return best?.option;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++)
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length];
}

// ── values ──────────────────────────────────────────────────────────────────────────────────────────

/** `why` explains where the bounds come from when they are not obvious. */
export function intOption(name: string, raw: string, min: number, max: number, why?: string): number {
  const v = Number(raw);
  if (!/^-?\d+$/.test(raw.trim()) || v < min || v > max)
    throw new UsageError(
      `${name} must be a whole number from ${min} to ${max}${why ? ` (${why})` : ''}, not "${raw}"`,
    );
  return v;
}

export function numberOption(name: string, raw: string, min: number, max: number): number {
  const v = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(v) || v < min || v > max)
    throw new UsageError(`${name} must be a number from ${min} to ${max}, not "${raw}"`);
  return v;
}

export function choiceOption<C extends string>(name: string, raw: string, choices: readonly C[]): C {
  if (!(choices as readonly string[]).includes(raw))
    throw new UsageError(`${name} must be one of ${choices.join(', ')}, not "${raw}"`);
  return raw as C;
}

/** `SPI=HEX` with 40 hex digits (16-byte AES key + 4-byte salt, as charon prints it). The key is never echoed. */
export function parseSaKeys(raw: string[]): RuntimeSaKey[] {
  return raw.map((item) => {
    const m = /^(0x[0-9a-f]+|\d+)=([0-9a-f]{40})$/i.exec(item.trim());
    if (!m)
      throw new UsageError(
        '--sa-key must look like SPI=KEYSALT (SPI decimal or 0x-hex, 40 hex digits of key+salt)',
      );
    const bytes = Buffer.from(m[2], 'hex');
    return {
      spi: Number(m[1]),
      key: Uint8Array.from(bytes.subarray(0, 16)),
      salt: Uint8Array.from(bytes.subarray(16, 20)),
    };
  });
}

// ── output paths: proven writable before anything starts ───────────────────────────────────────────

/**
 * Creates directory `dir` (and missing parents) and proves a file can be written in it, or throws a
 * UsageError naming `option`. Parents are created one at a time: node's recursive mkdir loops forever
 * under /proc, a single mkdir there just fails.
 */
export function writableDir(option: string, dir: string, named = dir): string {
  const abs = resolve(dir);
  const missing: string[] = [];
  let at = abs;
  for (;;) {
    const st = statOrNull(at);
    if (st && !st.isDirectory())
      throw new UsageError(`${option} ${named}: ${at} exists and is not a directory`);
    if (st) break;
    missing.unshift(at);
    at = dirname(at);
  }
  try {
    for (const d of missing) mkdirSync(d);
    accessSync(abs, constants.W_OK);
    const probe = join(abs, `.chainprobe-write-test-${process.pid}`);
    writeFileSync(probe, '');
    rmSync(probe);
  } catch (e) {
    throw new UsageError(`${option} ${named}: cannot write in ${abs} (${(e as Error).message})`);
  }
  return dir;
}

/** File `path` can be created or replaced: its directory is writable and it is not a directory. */
export function writableFile(option: string, path: string): string {
  if (statOrNull(path)?.isDirectory()) throw new UsageError(`${option} ${path}: is a directory`);
  writableDir(option, dirname(resolve(path)), path);
  return path;
}

/** An existing regular file (read later, maybe after a run started). */
export function readableFile(option: string, path: string): string {
  const st = statOrNull(path);
  if (!st) throw new UsageError(`${option}: no such file ${path}`);
  if (!st.isFile()) throw new UsageError(`${option}: ${path} is not a file`);
  try {
    accessSync(path, constants.R_OK);
  } catch {
    throw new UsageError(`${option}: ${path} is not readable`);
  }
  return path;
}

function statOrNull(path: string) {
  try {
    return statSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    if ((e as NodeJS.ErrnoException).code === 'ENOTDIR') return null; // a parent is a file: found above
    throw new UsageError(`${path}: ${(e as Error).message}`);
  }
}
