/**
 * The hop funnel as plain text, one line per capture point in chain order. Shared by the terminal
 * summary (src/cli) and the vitest matchers' failure messages (src/vitest); it lives here, below both,
 * so the CLI never loads vitest.
 */
import type { RunResults } from './results.ts';

export const percent = (x: number) => `${(x * 100).toFixed(1)} %`;

export function funnel(r: RunResults): string {
  const w = Math.max(...r.hops.map((h) => h.name.length), 8);
  const hw = Math.max(...r.hops.map((h) => h.hop.length)) + 2;
  const lines = r.hops.map((h, i) => {
    const lost = h.lostHere
      ? `  ✘ ${h.lostHere} lost ${i ? `after ${r.hops[i - 1].name}` : 'before it'}`
      : '';
    const drop = r.captureDrops.find((d) => d.capture === h.name)?.flagged
      ? '  (capture dropped packets)'
      : '';
    return `  ${h.name.padEnd(w)} ${`[${h.hop}]`.padEnd(hw)} ${String(h.seen).padStart(8)} seen${lost}${drop}`;
  });
  return [`  sent ${r.sent}, delivered ${r.delivered} (${percent(r.deliveryRatio)})`, ...lines].join('\n');
}
