/**
 * The shell of the pages around the run reports (NDR search, trends, the reports index): one self-contained
 * HTML file with the report's stylesheet, no script at all (charts are server-side SVG), and the page's
 * data, if any, embedded as JSON for tools (`script#ID`, never executed).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { jsonForScript } from './escape.ts';
import { REPORT_CSS } from './html-style.ts';
import { html, type Markup, raw } from './markup.ts';

export function staticPage(o: {
  title: string;
  body: Markup;
  data?: { id: string; value: unknown };
}): string {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>${o.title}</title>
<style>${raw(REPORT_CSS)}</style>
</head>
<body>
<main>
${o.body}
</main>
${o.data ? html`<script type="application/json" id="${o.data.id}">${raw(jsonForScript(o.data.value))}</script>` : ''}
</body>
</html>
`.html;
}

/** Writes `page` to DIR/index.html (creating DIR); returns the path. */
export function writePage(dir: string, page: string): string {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, 'index.html');
  writeFileSync(path, page);
  return path;
}
