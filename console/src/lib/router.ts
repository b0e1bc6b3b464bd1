// A small history-API router: the whole view (page, filters, time range, refresh) lives in the URL,
// so reload, back/forward and a copied link restore it exactly.
import { reactive } from 'vue';

export type Query = Record<string, string>;

export interface RouteState {
  path: string;
  query: Query;
}

/** Parses "?a=1&b=x%20y" into {a: "1", b: "x y"} (the last value of a repeated key wins). */
export function parseQuery(search: string): Query {
  const out: Query = {};
  new URLSearchParams(search).forEach((v, k) => {
    out[k] = v;
  });
  return out;
}

/** Builds "?a=1&b=x" from a query, leaving out empty and undefined values, keys sorted for stable URLs. */
export function buildQuery(q: Record<string, string | number | boolean | undefined | null>): string {
  const p = new URLSearchParams();
  for (const k of Object.keys(q).sort()) {
    const v = q[k];
    if (v !== undefined && v !== null && v !== '') p.set(k, String(v));
  }
  const s = p.toString();
  return s ? `?${s}` : '';
}

/** Builds a path + query URL. */
export function href(path: string, q: Record<string, string | number | boolean | undefined | null> = {}): string {
  return path + buildQuery(q);
}

export const route = reactive<RouteState>({ path: '/', query: {} });

function sync(): void {
  route.path = decodeURI(window.location.pathname) || '/';
  route.query = parseQuery(window.location.search);
}

/** Goes to a URL inside the console (pushes a history entry unless replace). */
export function navigate(url: string, replace = false): void {
  const current = window.location.pathname + window.location.search;
  if (url === current) return;
  if (replace) window.history.replaceState(null, '', url);
  else window.history.pushState(null, '', url);
  sync();
  if (!replace) window.scrollTo(0, 0);
}

/** Changes some query values of the current page (undefined/"" removes a key). */
export function patchQuery(patch: Record<string, string | undefined>, replace = false): void {
  const merged: Record<string, string | undefined> = { ...route.query, ...patch };
  navigate(href(route.path, merged), replace);
}

/** Starts listening to back/forward; call once. */
export function startRouter(): void {
  sync();
  window.addEventListener('popstate', sync);
}

/** Matches a path against a pattern like "/hosts/:id"; returns the decoded params or null. */
export function matchPath(pattern: string, path: string): Record<string, string> | null {
  const ps = pattern.split('/').filter(Boolean);
  const xs = path.split('/').filter(Boolean);
  if (ps.length !== xs.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < ps.length; i++) {
    if (ps[i].startsWith(':')) params[ps[i].slice(1)] = decodeURIComponent(xs[i]);
    else if (ps[i] !== xs[i]) return null;
  }
  return params;
}

/** Current URL (path + query), e.g. to come back after logging in. */
export function currentUrl(): string {
  return window.location.pathname + window.location.search;
}
