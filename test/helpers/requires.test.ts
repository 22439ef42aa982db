/** The skip helper: a missing need skips locally (reason printed) and fails under CI=true. */
import { afterEach, describe, expect, test, vi } from 'vitest';
import { requires, requiresTool } from './requires.ts';

afterEach(() => {
  vi.unstubAllEnvs();
  vi.restoreAllMocks();
});

describe('requires', () => {
  test('locally a missing need skips and says why', () => {
    vi.stubEnv('CI', '');
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    expect(requires('live path', false, 'needs root')).toBe(false);
    expect(warn).toHaveBeenCalledWith('[skipped] live path: needs root');
    expect(requires('live path', true, 'needs root')).toBe(true);
  });

  test('under CI=true a missing need is an error, unless the skip was asked for', () => {
    vi.stubEnv('CI', 'true');
    vi.spyOn(console, 'warn').mockImplementation(() => {});
    expect(() => requires('live path', false, 'needs root')).toThrow(/live path: needs root — under CI=true/);
    expect(requires('native path', false, 'CHAINPROBE_NO_NATIVE=1', true)).toBe(false);
  });

  test('requiresTool looks on PATH', () => {
    vi.stubEnv('CI', '');
    vi.spyOn(console, 'warn').mockImplementation(() => {});
    expect(requiresTool('sh', 'a shell')).toBe(true);
    expect(requiresTool('no-such-tool-chainprobe', 'nothing')).toBe(false);
    vi.stubEnv('PATH', '/nonexistent');
    expect(requiresTool('sh', 'a shell')).toBe(false);
  });
});
