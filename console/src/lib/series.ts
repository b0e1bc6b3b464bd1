// Turns analyze answers into uPlot's aligned columns: one shared x (seconds) and one y column per series.
import type { SeriesItem } from './api';

export interface Aligned {
  x: number[];
  ys: (number | null)[][];
}

/** Aligns series on the union of their timestamps (gaps are null). Fast path when all share one time axis. */
export function alignSeries(series: { points: { time: string; value: number }[] }[]): Aligned {
  if (series.length === 0) return { x: [], ys: [] };
  const parsed = series.map((s) => {
    const t = new Float64Array(s.points.length);
    for (let i = 0; i < s.points.length; i++) t[i] = Date.parse(s.points[i].time) / 1000;
    return t;
  });
  const first = parsed[0];
  const same = parsed.every((t) => t.length === first.length && t[0] === first[0] && t[t.length - 1] === first[first.length - 1]);
  if (same) {
    return { x: Array.from(first), ys: series.map((s) => s.points.map((p) => p.value)) };
  }
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
