/**
 * A tiny escape-by-default HTML template: every interpolated value is escaped unless it is already
 * Markup (built by `html` or `raw`). Forgetting to escape then takes effort, not the reverse.
 */
import { escapeHtml } from './escape.ts';

export class Markup {
  constructor(readonly html: string) {}
  toString(): string {
    return this.html;
  }
}

/** Trusted markup produced by this module's own code (never results data). */
export function raw(trusted: string): Markup {
  return new Markup(trusted);
}

function render(value: unknown): string {
  if (value instanceof Markup) return value.html;
  if (Array.isArray(value)) return value.map(render).join('');
  if (value === null || value === undefined || value === false) return '';
  return escapeHtml(value);
}

export function html(strings: TemplateStringsArray, ...values: unknown[]): Markup {
  let out = strings[0];
  for (let i = 0; i < values.length; i++) out += render(values[i]) + strings[i + 1];
  return new Markup(out);
}
