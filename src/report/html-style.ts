/** The report's stylesheet: light, printable, readable without JavaScript. Shared by the run report and the index page. */
export const REPORT_CSS = `
:root { --pass: #1a7f37; --pass-bg: #dafbe1; --fail: #cf222e; --fail-bg: #ffebe9; --warn: #9a6700; --warn-bg: #fff8c5;
  --fg: #24292f; --muted: #57606a; --border: #d0d7de; --panel: #f6f8fa; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: #fff; }
main { max-width: 1120px; margin: 0 auto; padding: 24px 20px 64px; }
h1 { font-size: 20px; margin: 0 0 16px; font-weight: 600; }
h1 .muted { font-weight: 400; }
h2 { font-size: 18px; margin: 36px 0 10px; padding-bottom: 4px; border-bottom: 1px solid var(--border); }
h3 { font-size: 15px; margin: 20px 0 6px; }
p { margin: 6px 0; }
.muted { color: var(--muted); }
code, pre, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 13px; }
nav.toc { font-size: 13px; margin: -8px 0 12px; }
nav.toc a { margin-right: 14px; color: var(--muted); }
.verdict { display: flex; gap: 22px; align-items: flex-start; padding: 18px 22px; border-radius: 8px; border: 2px solid; }
.verdict.pass { background: var(--pass-bg); border-color: var(--pass); }
.verdict.fail { background: var(--fail-bg); border-color: var(--fail); }
.verdict-badge { font-size: 44px; font-weight: 800; letter-spacing: 2px; line-height: 1; padding: 8px 18px; border-radius: 6px; color: #fff; }
.pass .verdict-badge { background: var(--pass); }
.fail .verdict-badge { background: var(--fail); }
.verdict .headline { font-size: 18px; font-weight: 600; margin-top: 0; }
.verdict .segment { font-size: 16px; }
.verdict ul { margin: 6px 0 0; padding-left: 20px; }
.banner { margin: 14px 0; padding: 12px 16px; border-radius: 6px; border: 1px solid; }
.banner.warn { background: var(--warn-bg); border-color: #d4a72c; color: #4d2d00; }
table { border-collapse: collapse; width: 100%; margin: 8px 0; font-size: 14px; }
th, td { border-bottom: 1px solid var(--border); padding: 5px 10px; text-align: left; vertical-align: top; }
th { background: var(--panel); font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.faulty td { background: var(--fail-bg); }
tr.flagged td { background: var(--warn-bg); }
.tag { display: inline-block; font-size: 12px; padding: 0 6px; border-radius: 10px; border: 1px solid; margin-left: 6px; white-space: nowrap; }
.tag.fail { color: var(--fail); border-color: var(--fail); background: #fff; }
.tag.warn { color: var(--warn); border-color: #d4a72c; background: #fff; }
.ok { color: var(--pass); font-weight: 600; }
.bad { color: var(--fail); font-weight: 600; }
.nowrap { white-space: nowrap; }
.legend { font-size: 13px; margin: 0 0 6px; }
.swatch { display: inline-block; width: 12px; height: 12px; border-radius: 2px; margin: 0 5px -1px 14px; }
.legend .swatch:first-child { margin-left: 0; }
#rates-table { max-width: 640px; }
#index-table { max-width: 860px; }
.na { color: var(--muted); font-style: italic; font-size: 12px; }
.chart { position: relative; height: 300px; margin: 10px 0; }
.chart.small { height: 220px; }
.grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(340px, 1fr)); gap: 12px 20px; }
.grid > * { min-width: 0; overflow-x: auto; } /* a wide table scrolls inside its cell instead of spilling over the next */
td.name { overflow-wrap: anywhere; }
.example { border: 1px solid var(--border); border-radius: 6px; margin: 10px 0; }
.example header { background: var(--panel); padding: 6px 12px; font-size: 13px; border-bottom: 1px solid var(--border); }
.example .reason { padding: 6px 12px 0; }
.example pre { margin: 0; padding: 8px 12px 10px; overflow-x: auto; white-space: pre; }
.example pre .layer { display: block; }
dl.meta { display: grid; grid-template-columns: max-content 1fr; gap: 4px 18px; margin: 8px 0; }
dl.meta dt { color: var(--muted); }
dl.meta dd { margin: 0; }
details { margin: 8px 0; }
summary { cursor: pointer; color: var(--muted); }
footer { margin-top: 40px; font-size: 12px; color: var(--muted); }
.badge { display: inline-block; min-width: 52px; text-align: center; font-weight: 700; font-size: 13px; color: #fff; padding: 2px 8px; border-radius: 4px; }
.badge.pass { background: var(--pass); }
.badge.fail { background: var(--fail); }
.badge.unknown { background: var(--muted); }
@media print { .chart { break-inside: avoid; } }
`;
