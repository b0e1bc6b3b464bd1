// The one fetch wrapper: relative URLs, JSON, RFC 7807 problem details turned into readable errors,
// and 401 reported to the app (which shows the login page).

export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly fieldErrors: Record<string, string[]> = {},
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

type UnauthorizedHandler = () => void;
let onUnauthorized: UnauthorizedHandler = () => {};

/** Sets what happens when any call answers 401 (the app navigates to the login page). */
export function setUnauthorizedHandler(h: UnauthorizedHandler): void {
  onUnauthorized = h;
}

/** Turns a problem+json (or any) error body into an ApiError with the server's message and field errors. */
export function problemToError(status: number, body: unknown, fallback: string): ApiError {
  if (body && typeof body === 'object') {
    const p = body as { title?: string; detail?: string; errors?: Record<string, string[] | string> };
    const fieldErrors: Record<string, string[]> = {};
    if (p.errors && typeof p.errors === 'object') {
      for (const [k, v] of Object.entries(p.errors)) fieldErrors[k] = Array.isArray(v) ? v.map(String) : [String(v)];
    }
    const fieldText = Object.entries(fieldErrors)
      .map(([k, v]) => `${k}: ${v.join('; ')}`)
      .join(' · ');
    const msg = [p.detail || p.title, fieldText].filter(Boolean).join(' — ');
    return new ApiError(msg || fallback, status, fieldErrors);
  }
  if (typeof body === 'string' && body.trim()) return new ApiError(body.trim().slice(0, 300), status);
  return new ApiError(fallback, status);
}

export interface RequestOptions {
  method?: string;
  body?: unknown;
  signal?: AbortSignal;
  /** Do not route a 401 to the login page (the login call itself). */
  noAuthRedirect?: boolean;
}

/** Calls a relative API URL and returns the parsed JSON (undefined for 204). Throws ApiError. */
export async function request<T>(url: string, opts: RequestOptions = {}): Promise<T> {
  if (/^[a-z]+:\/\//i.test(url) || url.startsWith('//')) throw new Error('only relative URLs are allowed');
  const init: RequestInit = {
    method: opts.method ?? 'GET',
    headers: { Accept: 'application/json, application/problem+json' },
    credentials: 'same-origin',
    signal: opts.signal,
  };
  if (opts.body !== undefined) {
    (init.headers as Record<string, string>)['Content-Type'] = 'application/json';
    init.body = JSON.stringify(opts.body);
  }
  let res: Response;
  try {
    res = await fetch(url, init);
  } catch (e) {
    if ((e as Error).name === 'AbortError') throw e;
    throw new ApiError(`network error: ${(e as Error).message}`, 0);
  }
  const text = await res.text();
  let body: unknown = undefined;
  if (text) {
    try {
      body = JSON.parse(text);
    } catch {
      body = text;
    }
  }
  if (text.length > 1_000_000) performance.mark('monitor:large-answer-parsed', { detail: { url: url.split('?')[0], chars: text.length } });
  if (!res.ok) {
    if (res.status === 401 && !opts.noAuthRedirect) onUnauthorized();
    throw problemToError(res.status, body, `${res.status} ${res.statusText || 'error'} from ${url.split('?')[0]}`);
  }
  return body as T;
}

/** Encodes one path segment (host ids may hold any character except control characters). */
export const seg = (s: string | number): string => encodeURIComponent(String(s));
