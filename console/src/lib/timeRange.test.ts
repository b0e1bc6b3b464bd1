import { describe, expect, it } from 'vitest';
import { durationLiteral, parseDuration, rangeFromQuery, rangeLabel, rangeToQuery, refreshMs, resolveRange, stepFor } from './timeRange';

describe('durations', () => {
  it.each([['90s', 90_000], ['1h30m', 5_400_000], ['7d', 604_800_000], ['500ms', 500], ['1w', 604_800_000]])('%s', (t, ms) => expect(parseDuration(t)).toBe(ms));
  it.each(['', 'h', '10', '5x', '1h junk', '-1h'])('rejects %j', (t) => expect(parseDuration(t)).toBeNaN());
  it.each([[90_000, '90s'], [3_600_000, '1h'], [86_400_000, '1d'], [120_000, '2m'], [250, '250ms']])('%d -> %s', (ms, t) => expect(durationLiteral(ms)).toBe(t));
});

describe('range in the URL', () => {
  it('defaults to the last hour', () => expect(rangeFromQuery({})).toEqual({ kind: 'preset', preset: '1h' }));
  it('reads a preset', () => expect(rangeFromQuery({ range: '7d' })).toEqual({ kind: 'preset', preset: '7d' }));
  it('ignores a malformed preset', () => expect(rangeFromQuery({ range: 'yesterday' })).toEqual({ kind: 'preset', preset: '1h' }));
  it('reads an absolute range and normalises it to UTC', () =>
    expect(rangeFromQuery({ from: '2026-11-23T10:00:00+02:00', to: '2026-11-23T09:00:00Z' })).toEqual({
      kind: 'absolute', from: '2026-11-23T08:00:00.000Z', to: '2026-11-23T09:00:00.000Z',
    }));
  it('rejects from >= to', () => expect(rangeFromQuery({ from: '2026-11-23T10:00:00Z', to: '2026-11-23T09:00:00Z' }).kind).toBe('preset'));
  it('round-trips through the query', () => {
    for (const r of [{ kind: 'preset', preset: '6h' } as const, { kind: 'absolute', from: '2026-11-23T08:00:00.000Z', to: '2026-11-23T09:00:00.000Z' } as const]) {
      const q = Object.fromEntries(Object.entries(rangeToQuery(r)).filter(([, v]) => v !== undefined)) as Record<string, string>;
      expect(rangeFromQuery(q)).toEqual(r);
    }
  });
  it('the default preset leaves the URL', () => expect(rangeToQuery({ kind: 'preset', preset: '1h' })).toEqual({ range: undefined, from: undefined, to: undefined }));
  it('resolves relative to now', () => {
    const now = Date.parse('2026-11-23T12:00:00Z');
    expect(resolveRange({ kind: 'preset', preset: '15m' }, now)).toEqual({ start: now - 900_000, end: now });
  });
  it('labels', () => expect(rangeLabel({ kind: 'preset', preset: '3h' })).toBe('Last 3h'));
});

describe('steps and refresh', () => {
  it('raw up to an hour', () => expect(stepFor(3_600_000)).toBeUndefined());
  it('nice steps above', () => {
    expect(stepFor(6 * 3_600_000)).toBe('30s');
    expect(stepFor(7 * 86_400_000)).toBe('15m');
  });
  it('refresh choices', () => {
    expect(refreshMs('10s')).toBe(10_000);
    expect(refreshMs('5m')).toBe(300_000);
    expect(refreshMs('off')).toBe(0);
    expect(refreshMs(undefined)).toBe(0);
    expect(refreshMs('1s')).toBe(0);
  });
});
