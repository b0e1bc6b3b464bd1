// Small helpers the pages share.
import { computed } from 'vue';
import { route } from './router';
import { rangeFromQuery, refreshMs } from './timeRange';

/** The auto-refresh interval chosen in the URL (ms, 0 = off). */
export const refreshInterval = () => refreshMs(route.query.refresh);

/** The time range chosen in the URL. */
export const currentRange = computed(() => rangeFromQuery(route.query));

export const SEVERITIES = ['critical', 'warning', 'info'] as const;

export function severityRank(s: string): number {
  return s === 'critical' ? 3 : s === 'warning' ? 2 : s === 'info' ? 1 : 0;
}

/** Keeps the chosen refresh and range when following a link to another chart page. */
export function keepView(extra: Record<string, string | undefined> = {}): Record<string, string | undefined> {
  return { range: route.query.range, from: route.query.from, to: route.query.to, refresh: route.query.refresh, ...extra };
}
