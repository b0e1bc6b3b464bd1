// Time ranges as they live in the URL: a preset ("1h") or an absolute pair (from/to, RFC 3339).

export const PRESETS = ['15m', '30m', '1h', '3h', '6h', '12h', '24h', '2d', '7d'] as const;
export const DEFAULT_RANGE = '1h';
export const REFRESH_CHOICES = ['off', '10s', '30s', '1m', '5m'] as const;
export type Refresh = (typeof REFRESH_CHOICES)[number];

export type TimeRange = { kind: 'preset'; preset: string } | { kind: 'absolute'; from: string; to: string };

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** "90s", "1h30m", "7d" → milliseconds; NaN when malformed. */
export function parseDuration(text: string): number {
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h|d|w)/gy;
  let total = 0;
  let matched = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text)) !== null) {
    total += Number(m[1]) * UNIT_MS[m[2]];
    matched = re.lastIndex;
  }
  return text.length > 0 && matched === text.length ? total : NaN;
}

/** Milliseconds → the shortest duration literal the analyze API accepts: 90000 → "90s", 3600000 → "1h". */
export function durationLiteral(ms: number): string {
  for (const [u, f] of [['w', 604_800_000], ['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1000]] as const) {
    if (ms >= f && ms % f === 0) return `${ms / f}${u}`;
  }
  return `${Math.max(1, Math.round(ms))}ms`;
}

/** Reads a range from URL query values; anything unusable falls back to the default preset. */
export function rangeFromQuery(q: Record<string, string | undefined>): TimeRange {
  if (q.from && q.to) {
    const f = Date.parse(q.from);
    const t = Date.parse(q.to);
    if (!Number.isNaN(f) && !Number.isNaN(t) && f < t) {
      return { kind: 'absolute', from: new Date(f).toISOString(), to: new Date(t).toISOString() };
    }
  }
  if (q.range && Number.isFinite(parseDuration(q.range)) && parseDuration(q.range) > 0) {
    return { kind: 'preset', preset: q.range };
  }
  return { kind: 'preset', preset: DEFAULT_RANGE };
}

/** The query values that describe a range (the others are set to undefined so they leave the URL). */
export function rangeToQuery(r: TimeRange): Record<string, string | undefined> {
  return r.kind === 'absolute'
    ? { range: undefined, from: r.from, to: r.to }
    : { range: r.preset === DEFAULT_RANGE ? undefined : r.preset, from: undefined, to: undefined };
}

/** Start and end instants (ms) of a range at time `now`. */
export function resolveRange(r: TimeRange, now: number = Date.now()): { start: number; end: number } {
  if (r.kind === 'absolute') return { start: Date.parse(r.from), end: Date.parse(r.to) };
  return { start: now - parseDuration(r.preset), end: now };
}

const NICE_STEPS = [1, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400].map((s) => s * 1000);

/**
 * The aggregation step for a chart of the range: undefined (raw samples) up to 1 h, else the smallest
 * "nice" step giving at most `maxPoints` points.
 */
export function stepFor(spanMs: number, maxPoints = 720): string | undefined {
  if (spanMs <= 3_600_000) return undefined;
  const want = spanMs / maxPoints;
  const step = NICE_STEPS.find((s) => s >= want) ?? Math.ceil(want / 86_400_000) * 86_400_000;
  return durationLiteral(step);
}

/** Auto-refresh interval in ms, or 0 for off/unknown. */
export function refreshMs(r: string | undefined): number {
  if (!r || r === 'off') return 0;
  const ms = parseDuration(r);
  return (REFRESH_CHOICES as readonly string[]).includes(r) && Number.isFinite(ms) ? ms : 0;
}

/** A label for the picker: "Last 1h" or "from – to". */
export function rangeLabel(r: TimeRange): string {
  return r.kind === 'preset' ? `Last ${r.preset}` : `${r.from.replace('T', ' ').slice(0, 16)} – ${r.to.replace('T', ' ').slice(0, 16)} UTC`;
}
