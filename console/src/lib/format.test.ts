import { describe, expect, it } from 'vitest';
import { comparatorSymbol, formatAge, formatBytes, formatDuration, formatLabels, formatTime, formatValue, unitOf } from './format';

describe('formatDuration', () => {
  it.each([
    [0, '0 s'], [59_999, '59 s'], [60_000, '1 min'], [3_599_000, '59 min'], [3_600_000, '1 h'],
    [3_660_000, '1 h 1 min'], [86_400_000, '1 d'], [90_000_000, '1 d 1 h'], [-5000, '-5 s'],
  ])('%d ms -> %s', (ms, text) => expect(formatDuration(ms)).toBe(text));
  it('is a dash for non-finite input', () => expect(formatDuration(NaN)).toBe('—'));
});

describe('formatAge', () => {
  const now = Date.parse('2026-11-23T12:00:00Z');
  it('past', () => expect(formatAge('2026-11-23T11:55:00Z', now)).toBe('5 min ago'));
  it('future', () => expect(formatAge('2026-11-23T12:00:30Z', now)).toBe('in 30 s'));
  it('missing or invalid', () => {
    expect(formatAge(null, now)).toBe('—');
    expect(formatAge('not a date', now)).toBe('—');
  });
});

describe('formatTime', () => {
  it('UTC', () => expect(formatTime('2026-11-23T09:05:07.123Z', true)).toBe('2026-11-23 09:05:07Z'));
  it('dash for empty', () => expect(formatTime(undefined)).toBe('—'));
});

describe('formatValue', () => {
  it.each([
    [0, '', '0'], [12.5, '', '12.5'], [12.3456, '', '12.35'], [0.0012345, '', '0.0012'], [250.4, '', '250'],
    [12_345, '', '12.35 k'], [2_500_000, '', '2.5 M'], [1.5e9, '', '1.5 G'], [95, '%', '95 %'], [1536, 'bytes', '1.5 KiB'], [2048, 'B/s', '2 KiB/s'],
  ])('%d (%s) -> %s', (v, unit, text) => expect(formatValue(v, unit)).toBe(text));
  it('dash for null and NaN', () => {
    expect(formatValue(null)).toBe('—');
    expect(formatValue(NaN)).toBe('—');
  });
});

describe('formatBytes / unitOf / comparator / labels', () => {
  it('bytes', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(5 * 1024 ** 3)).toBe('5 GiB');
  });
  it('units from metric names', () => {
    expect(unitOf('cpu_rate')).toBe('%');
    expect(unitOf('disk_used_percent')).toBe('%');
    expect(unitOf('net_rx_bytes_per_second')).toBe('B/s');
    expect(unitOf('mem_used_bytes')).toBe('bytes');
    expect(unitOf('load1')).toBe('');
  });
  it('comparators', () => {
    expect(comparatorSymbol('gt')).toBe('>');
    expect(comparatorSymbol('le')).toBe('≤');
    expect(comparatorSymbol('odd')).toBe('odd');
  });
  it('labels sorted by key', () => expect(formatLabels({ mount: '/', dev: 'sda' })).toBe('dev=sda, mount=/'));
});
