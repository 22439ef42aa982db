/**
 * `npm run bench [-- AREA ...]`: runs the benchmark modules (bench/<area>.ts) one after another, prints a
 * table of figures with their same-run peers and ratios, and writes reports/bench.json + reports/bench.md.
 * Areas: codec, esp, pcap, inject, refchain (the last two need root and create namespaces).
 */
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchFigure, BenchModule } from './figure.ts';

const here = dirname(fileURLToPath(import.meta.url));
const all = readdirSync(here)
  .filter((f) => f.endsWith('.ts') && !['figure.ts', 'run.ts'].includes(f) && !f.endsWith('.d.ts'))
  .map((f) => f.replace(/\.ts$/, ''));
const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const areas = wanted.length ? wanted : all;
for (const a of areas) if (!all.includes(a)) throw new Error(`no benchmark "${a}" (have: ${all.join(', ')})`);

const fmt = (x: number) => (x >= 100 ? Math.round(x).toLocaleString('en-US') : x.toPrecision(3));
const figures: BenchFigure[] = [];
for (const area of areas) {
  console.log(`\n== ${area}`);
  const mod = (await import(`./${area}.ts`)) as { default: BenchModule };
  const t0 = Date.now();
  try {
    const got = await mod.default();
    figures.push(...got);
    for (const f of got) {
      const peer = f.peer
        ? `  vs ${f.peer.name} ${fmt(f.peer.value)} → ${f.ratio ? `${fmt(f.ratio)}×` : '-'}`
        : '';
      const target = f.target
        ? `  [target ${f.target}: ${f.pass === undefined ? 'n/a' : f.pass ? 'met' : 'NOT met'}]`
        : '';
      console.log(`  ${f.name}: ${fmt(f.value)} ${f.unit}${peer}${target}${f.notes ? `  (${f.notes})` : ''}`);
    }
  } catch (e) {
    console.error(`  ${area} failed: ${(e as Error).message}`);
    figures.push({
      group: area,
      name: 'benchmark failed',
      unit: '',
      value: 0,
      notes: (e as Error).message,
      pass: false,
    });
  }
  console.log(`  (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
}

const out = join(here, '..', 'reports');
mkdirSync(out, { recursive: true });
writeFileSync(join(out, 'bench.json'), JSON.stringify({ at: new Date().toISOString(), figures }, null, 2));
const md = [
  '| area | figure | value | peer (same run) | ratio | target |',
  '|---|---|---|---|---|---|',
  ...figures.map(
    (f) =>
      `| ${f.group} | ${f.name} | ${fmt(f.value)} ${f.unit} | ${f.peer ? `${f.peer.name}: ${fmt(f.peer.value)}` : '-'} | ${f.ratio ? `${fmt(f.ratio)}×` : '-'} | ${f.target ? `${f.target} ${f.pass === undefined ? '' : f.pass ? '✔' : '✘'}` : '-'} |`,
  ),
].join('\n');
writeFileSync(join(out, 'bench.md'), `${md}\n`);
console.log(`\nwrote reports/bench.json and reports/bench.md`);
