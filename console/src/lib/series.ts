// Turns analyze answers into uPlot's aligned columns: one shared x (seconds) and one y column per series.
import type { SeriesItem } from './api';

export interface Aligned {
  x: number[];
  ys: (number | null)[][];
}

/**
 * Aligns series on the union of their timestamps (gaps are null). Fast path when every series has the same
 * number of points with the same first and last timestamp (one host's series usually do): only the first
 * series' timestamps are parsed.
 */
export function alignSeries(series: { points: { time: string; value: number }[] }[]): Aligned {
  if (series.length === 0) return { x: [], ys: [] };
  const first = series[0].points;
  const n = first.length;
  const same =
    n > 0 &&
    series.every((s) => s.points.length === n && s.points[0].time === first[0].time && s.points[n - 1].time === first[n - 1].time);
  if (same) {
    const x = new Array<number>(n);
    for (let i = 0; i < n; i++) x[i] = Date.parse(first[i].time) / 1000;
    const ys = series.map((s) => {
      const col = new Array<number>(n);
      for (let i = 0; i < n; i++) col[i] = s.points[i].value;
      return col;
    });
    return { x, ys };
  }
  const parsed = series.map((s) => s.points.map((p) => Date.parse(p.time) / 1000));
  const set = new Set<number>();
  for (const t of parsed) for (const v of t) set.add(v);
  const x = Array.from(set).sort((a, b) => a - b);
  const index = new Map<number, number>();
  x.forEach((v, i) => index.set(v, i));
  const ys = series.map((s, si) => {
    const col: (number | null)[] = new Array(x.length).fill(null);
    const t = parsed[si];
    for (let i = 0; i < t.length; i++) col[index.get(t[i])!] = s.points[i].value;
    return col;
  });
  return { x, ys };
}

/** A series' legend name: its labels ("cpu=cpu0") or, without labels, the fallback (metric or host). */
export function seriesName(s: Pick<SeriesItem, 'labels'>, fallback: string): string {
  const keys = Object.keys(s.labels ?? {}).sort();
  return keys.length ? keys.map((k) => s.labels[k]).join(' ') : fallback;
}
