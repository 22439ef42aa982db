/** Rate plan and absolute-schedule pacer (pure; no timing assertions: times are passed in). */
import { describe, expect, it } from 'vitest';
import { framesFromList, Pacer, planInjection } from '../../src/inject/index.ts';

const src = framesFromList('ethernet', [new Uint8Array(100), new Uint8Array(300)]);

describe('planInjection', () => {
  it('derives count from rate × duration, the period, or refuses', () => {
    expect(planInjection(src, { ratePps: 10_000, durationS: 300 }).count).toBe(3_000_000);
    expect(planInjection(src, {}).count).toBe(2);
    expect(planInjection(src, { durationS: 3 }).count).toBeNull();
    expect(planInjection(src, { rateMbps: 1.6 }).requestedPps).toBeCloseTo(1000); // mean 200 B
    expect(() =>
      planInjection({ kind: 'ethernet', maxLengthBytes: 1, next: () => new Uint8Array(1) }, {}),
    ).toThrow(/count or durationS/);
    expect(() => planInjection(src, { ratePps: 1, rateMbps: 1 })).toThrow(/not both/);
  });
});

describe('Pacer', () => {
  it('schedules bursts on an absolute grid (a late wake-up catches up, no drift)', () => {
    const p = new Pacer({ ratePps: 1000, rateMbps: null, burst: 4 }); // a burst every 4 ms
    expect(p.allowed(0, 0)).toBe(4);
    for (let i = 0; i < 4; i++) p.consumed(100);
    expect(p.allowed(4, 3_999_999)).toBe(0);
    expect(p.dueNs(4)).toBe(4_000_000);
    expect(p.allowed(4, 20_000_000)).toBe(4); // late: burst 1 is due at 4 ms, still whole
    for (let i = 4; i < 8; i++) p.consumed(100);
    expect(p.allowed(8, 20_000_000)).toBe(4); // burst 2 (due 8 ms) also already due: catch up
    expect(p.dueNs(8)).toBe(8_000_000);
  });

  it('paces Mbps by cumulative bytes', () => {
    const p = new Pacer({ ratePps: null, rateMbps: 8, burst: 1 }); // 1 byte per µs
    expect(p.allowed(0, 0)).toBe(1);
    p.consumed(1000);
    expect(p.allowed(1, 999_999)).toBe(0);
    expect(p.dueNs(1)).toBe(1_000_000);
  });
});
