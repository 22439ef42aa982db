/**
 * Offsets over a long run: estimates taken at intervals, fitted with a line (least squares) so a clock
 * that runs fast or slow is corrected at each instant, not with one offset from the start. The
 * uncertainty at an instant is the worst sample's bound plus the fit's largest residual.
 */
import type { ClockOffset } from './offset.ts';

export class ClockTrack {
  private readonly samples: ClockOffset[] = [];

  add(o: ClockOffset): void {
    this.samples.push(o);
  }

  get count(): number {
    return this.samples.length;
  }

  /** slope (ns of offset per ns of time) and intercept at the first sample */
  private linearFit(): { t0: number; offset0: number; slope: number; residualNs: number } {
    const s = this.samples;
    const t0 = s[0].atNs;
    if (s.length < 2) return { t0, offset0: s[0].offsetNs, slope: 0, residualNs: 0 };
    const xs = s.map((x) => x.atNs - t0);
    const ys = s.map((x) => x.offsetNs);
    const mx = xs.reduce((a, b) => a + b, 0) / xs.length;
    const my = ys.reduce((a, b) => a + b, 0) / ys.length;
    let num = 0;
    let den = 0;
    for (let i = 0; i < xs.length; i++) {
      num += (xs[i] - mx) * (ys[i] - my);
      den += (xs[i] - mx) ** 2;
    }
    const slope = den > 0 ? num / den : 0;
    const offset0 = my - slope * mx;
    const residualNs = Math.max(...xs.map((x, i) => Math.abs(ys[i] - (offset0 + slope * x))));
    return { t0, offset0, slope, residualNs };
  }

  /** The offset at reference time `atNs`, with the drift and an uncertainty that covers the fit. */
  at(atNs: number): ClockOffset {
    if (this.samples.length === 0) throw new RangeError('ClockTrack.at: no samples');
    const f = this.linearFit();
    return {
      offsetNs: f.offset0 + f.slope * (atNs - f.t0),
      uncertaintyNs: Math.max(...this.samples.map((s) => s.uncertaintyNs)) + f.residualNs,
      method: `${this.samples.length} estimates, linear drift`,
      atNs,
      driftPpm: f.slope * 1e6,
    };
  }
}
