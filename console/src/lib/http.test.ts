import { afterEach, describe, expect, it, vi } from 'vitest';
import { ApiError, problemToError, request, setUnauthorizedHandler } from './http';

function respond(status: number, body: unknown, contentType = 'application/json') {
  const text = body === undefined ? '' : typeof body === 'string' ? body : JSON.stringify(body);
  return vi.fn(async () => new Response(status === 204 ? null : text, { status, headers: { 'Content-Type': contentType } }));
}

afterEach(() => {
  vi.unstubAllGlobals();
  setUnauthorizedHandler(() => {});
});

describe('problemToError', () => {
  it('uses detail and lists field errors', () => {
    const e = problemToError(400, { title: 'The rule is invalid', errors: { metric: ['unknown metric'], 'bands.critical': ['must be above warning'] } }, 'x');
    expect(e.message).toBe('The rule is invalid — metric: unknown metric · bands.critical: must be above warning');
    expect(e.fieldErrors.metric).toEqual(['unknown metric']);
    expect(e.status).toBe(400);
  });
  it('prefers detail over title', () => expect(problemToError(404, { title: 'Not found', detail: 'rule 7 not found' }, 'x').message).toBe('rule 7 not found'));
  it('plain text bodies', () => expect(problemToError(502, '<html>Bad Gateway</html>', 'x').message).toBe('<html>Bad Gateway</html>'));
  it('fallback', () => expect(problemToError(500, undefined, 'fallback').message).toBe('fallback'));
});

describe('request', () => {
  it('parses JSON and sends relative, same-origin requests', async () => {
    const f = respond(200, { a: 1 });
    vi.stubGlobal('fetch', f);
    expect(await request('/api/v1/x')).toEqual({ a: 1 });
    const [url, init] = f.mock.calls[0] as unknown as [string, RequestInit];
    expect(url).toBe('/api/v1/x');
    expect(init.credentials).toBe('same-origin');
  });
  it('204 is undefined', async () => {
    vi.stubGlobal('fetch', respond(204, undefined));
    expect(await request('/api/v1/x', { method: 'DELETE' })).toBeUndefined();
  });
  it('sends JSON bodies', async () => {
    const f = respond(201, { id: 1 });
    vi.stubGlobal('fetch', f);
    await request('/api/v1/x', { method: 'POST', body: { name: 'n' } });
    const init = (f.mock.calls[0] as unknown as [string, RequestInit])[1];
    expect(init.body).toBe('{"name":"n"}');
    expect((init.headers as Record<string, string>)['Content-Type']).toBe('application/json');
  });
  it('throws ApiError with the server message', async () => {
    vi.stubGlobal('fetch', respond(503, { title: 'InfluxDB unreachable' }, 'application/problem+json'));
    await expect(request('/api/v1/x')).rejects.toMatchObject({ name: 'ApiError', status: 503, message: 'InfluxDB unreachable' });
  });
  it('401 calls the unauthorized handler, unless told not to', async () => {
    const h = vi.fn();
    setUnauthorizedHandler(h);
    vi.stubGlobal('fetch', respond(401, { title: 'Unauthorized' }));
    await expect(request('/api/v1/x')).rejects.toBeInstanceOf(ApiError);
    expect(h).toHaveBeenCalledTimes(1);
    await expect(request('/api/v1/x', { noAuthRedirect: true })).rejects.toBeInstanceOf(ApiError);
    expect(h).toHaveBeenCalledTimes(1);
  });
  it('network errors become ApiError status 0', async () => {
    vi.stubGlobal('fetch', vi.fn(async () => { throw new TypeError('Failed to fetch'); }));
    await expect(request('/api/v1/x')).rejects.toMatchObject({ status: 0, message: 'network error: Failed to fetch' });
  });
  it('refuses absolute URLs (no request leaves for another host)', async () => {
    const f = respond(200, {});
    vi.stubGlobal('fetch', f);
    await expect(request('https://example.com/x')).rejects.toThrow('only relative URLs');
    await expect(request('//example.com/x')).rejects.toThrow('only relative URLs');
    expect(f).not.toHaveBeenCalled();
  });
});
