import { describe, expect, it } from 'vitest';
import { alignSeries, seriesName } from './series';
import { silenceStatus } from './silence';

const p = (t: string, value: number) => ({ time: `2026-11-23T12:00:${t}Z`, value });

describe('alignSeries', () => {
  it('shares one axis when timestamps agree', () => {
    const a = alignSeries([{ points: [p('00', 1), p('10', 2)] }, { points: [p('00', 3), p('10', 4)] }]);
    expect(a.x).toEqual([Date.parse('2026-11-23T12:00:00Z') / 1000, Date.parse('2026-11-23T12:00:10Z') / 1000]);
    expect(a.ys).toEqual([[1, 2], [3, 4]]);
  });
  it('fills gaps with null on the union of timestamps', () => {
    const a = alignSeries([{ points: [p('00', 1), p('20', 2)] }, { points: [p('10', 3)] }]);
    expect(a.x).toHaveLength(3);
    expect(a.ys).toEqual([[1, null, 2], [null, 3, null]]);
  });
  it('empty', () => expect(alignSeries([])).toEqual({ x: [], ys: [] }));
  it('names from labels', () => {
    expect(seriesName({ labels: { cpu: 'cpu3' } }, 'cpu_core_percent')).toBe('cpu3');
    expect(seriesName({ labels: {} }, 'cpu_rate')).toBe('cpu_rate');
  });
});

describe('silences', () => {
  const now = Date.parse('2026-11-23T12:00:00Z');
  it('status', () => {
    expect(silenceStatus({ startsAt: '2026-11-23T11:00:00Z', endsAt: '2026-11-23T13:00:00Z' }, now)).toBe('active');
    expect(silenceStatus({ startsAt: '2026-11-23T12:30:00Z', endsAt: '2026-11-23T13:00:00Z' }, now)).toBe('pending');
    expect(silenceStatus({ startsAt: '2026-11-23T10:00:00Z', endsAt: '2026-11-23T12:00:00Z' }, now)).toBe('expired');
  });
});
