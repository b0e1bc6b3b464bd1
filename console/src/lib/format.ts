// Formatting helpers shared by every page. Pure functions: unit-tested in format.test.ts.

/** "42 s", "5 min", "3 h 4 min", "2 d 3 h" — a compact, human age of a duration in milliseconds. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return '—';
  const neg = ms < 0;
  let s = Math.floor(Math.abs(ms) / 1000);
  let out: string;
  if (s < 60) out = `${s} s`;
  else if (s < 3600) out = `${Math.floor(s / 60)} min`;
  else if (s < 86400) {
    const h = Math.floor(s / 3600);
    const m = Math.floor((s % 3600) / 60);
    out = m ? `${h} h ${m} min` : `${h} h`;
  } else {
    const d = Math.floor(s / 86400);
    s %= 86400;
    const h = Math.floor(s / 3600);
    out = h ? `${d} d ${h} h` : `${d} d`;
  }
  return neg ? `-${out}` : out;
}

/** Age of an RFC 3339 instant relative to now: "5 min ago"; "—" when absent. */
export function formatAge(iso: string | null | undefined, now: number = Date.now()): string {
  if (!iso) return '—';
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return '—';
  const d = now - t;
  return d < 0 ? `in ${formatDuration(-d)}` : `${formatDuration(d)} ago`;
}

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** An instant as "2026-11-23 12:00:05" in the browser's time zone (or UTC with utc=true). */
export function formatTime(iso: string | number | Date | null | undefined, utc = false): string {
  if (iso === null || iso === undefined || iso === '') return '—';
  const d = iso instanceof Date ? iso : new Date(iso);
  if (Number.isNaN(d.getTime())) return '—';
  const [y, mo, da, h, mi, s] = utc
    ? [d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds()]
    : [d.getFullYear(), d.getMonth() + 1, d.getDate(), d.getHours(), d.getMinutes(), d.getSeconds()];
  return `${y}-${pad(mo)}-${pad(da)} ${pad(h)}:${pad(mi)}:${pad(s)}${utc ? 'Z' : ''}`;
}

/** A metric value with a sensible precision: 12.5, 0.0012, 1.2e+9 → "1.2 G". */
export function formatValue(v: number | null | undefined, unit = ''): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '—';
  if (unit === 'bytes' || unit === 'B/s') {
    return formatBytes(v) + (unit === 'B/s' ? '/s' : '');
  }
  const a = Math.abs(v);
  let s: string;
  if (a === 0) s = '0';
  else if (a >= 1e9) s = `${trim(v / 1e9)} G`;
  else if (a >= 1e6) s = `${trim(v / 1e6)} M`;
  else if (a >= 1e4) s = `${trim(v / 1e3)} k`;
  else if (a >= 100) s = v.toFixed(0);
  else if (a >= 1) s = trim(v);
  else s = String(Number(v.toPrecision(2)));
  return unit === '%' ? `${s} %` : s;
}

function trim(v: number): string {
  return String(Number(v.toFixed(2)));
}

/** Bytes in binary units: 1536 → "1.5 KiB". */
export function formatBytes(v: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let i = 0;
  let x = Math.abs(v);
  while (x >= 1024 && i < units.length - 1) {
    x /= 1024;
    i++;
  }
  return `${v < 0 ? '-' : ''}${i === 0 ? x.toFixed(0) : trim(x)} ${units[i]}`;
}

/** The unit of a metric, from its name: percent, bytes, bytes per second or none. */
export function unitOf(metric: string): string {
  if (metric.endsWith('_percent') || metric === 'cpu_rate' || metric === 'mem_rate') return '%';
  if (metric.endsWith('_bytes_per_second')) return 'B/s';
  if (metric.endsWith('_bytes')) return 'bytes';
  return '';
}

/** Comparator as a symbol: gt → ">". */
export function comparatorSymbol(c: string): string {
  return ({ gt: '>', ge: '≥', lt: '<', le: '≤' } as Record<string, string>)[c] ?? c;
}

/** Labels {mount: "/"} as "mount=/" (sorted by key), or "" without labels. */
export function formatLabels(labels: Record<string, string> | null | undefined): string {
  if (!labels) return '';
  return Object.keys(labels)
    .sort()
    .map((k) => `${k}=${labels[k]}`)
    .join(', ');
}
