import { afterEach, describe, expect, it, vi } from 'vitest';
import { analyze, firingAlerts, manage, warning } from './api';
import { ApiError } from './http';

function route(handler: (url: string, init: RequestInit) => unknown) {
  const f = vi.fn(async (url: string, init: RequestInit) => {
    const body = handler(url, init);
    return new Response(body === undefined ? null : JSON.stringify(body), { status: body === undefined ? 204 : 200 });
  });
  vi.stubGlobal('fetch', f);
  return f;
}
const urls = (f: ReturnType<typeof route>) => f.mock.calls.map((c) => c[0]);

afterEach(() => vi.unstubAllGlobals());

describe('manage client', () => {
  it('follows nextCursor through every page of hosts', async () => {
    const f = route((url) => (url.includes('cursor=c2') ? { items: [{ hostId: 'b' }], nextCursor: null } : { items: [{ hostId: 'a' }], nextCursor: 'c2' }));
    expect((await manage.hosts()).map((h) => h.hostId)).toEqual(['a', 'b']);
    expect(urls(f)).toEqual(['/api/v1/manage/hosts?limit=5000', '/api/v1/manage/hosts?cursor=c2&limit=5000']);
  });
  it('escapes host ids in paths', async () => {
    const f = route(() => ({ hostId: 'x' }));
    await manage.host('web/1 ?#');
    expect(urls(f)).toEqual(['/api/v1/manage/hosts/web%2F1%20%3F%23']);
  });
  it('creates hosts with a JSON body', async () => {
    const f = route(() => ({ hostId: 'n1' }));
    await manage.createHost({ hostId: 'n1', location: 'dc1' });
    expect(f.mock.calls[0][1].method).toBe('POST');
    expect(JSON.parse(f.mock.calls[0][1].body as string)).toEqual({ hostId: 'n1', location: 'dc1' });
  });
  it('reads the pipeline health summary', async () => {
    const f = route(() => ({ healthy: true, behind: [], stages: [], instances: [] }));
    expect((await manage.pipelineHealth()).healthy).toBe(true);
    expect(urls(f)).toEqual(['/api/v1/manage/pipeline/health']);
  });
  it('login posts the contract shape', async () => {
    const f = route(() => undefined);
    await manage.login('admin', 'pw');
    expect(urls(f)).toEqual(['/api/v1/manage/auth/login']);
    expect(JSON.parse(f.mock.calls[0][1].body as string)).toEqual({ username: 'admin', password: 'pw' });
  });
});

describe('analyze client', () => {
  it('builds series queries with repeated label filters', async () => {
    const f = route(() => ({ series: [] }));
    await analyze.hostSeries('h 1', 'disk_used_percent', { start: '-1h', end: 'now', step: '30s', fn: 'max', labels: { mount: '/', dev: 'a=b' } });
    expect(urls(f)[0]).toBe('/api/v1/analyze/hosts/h%201/metrics/disk_used_percent/series?end=now&function=max&start=-1h&step=30s&label=mount%3D%2F&label=dev%3Da%3Db');
  });
  it('chart answers come from the columnar endpoint', async () => {
    const f = route(() => ({ timesUnixMs: [], series: [] }));
    await analyze.hostChart('web/1', 'cpu_core_percent', { start: '-1h', end: 'now' });
    expect(urls(f)[0]).toBe('/api/v1/analyze/hosts/web%2F1/metrics/cpu_core_percent/chart?end=now&start=-1h');
  });
  it('raw series omit the step', async () => {
    const f = route(() => ({ series: [] }));
    await analyze.hostSeries('h', 'cpu_rate', { start: 'a', end: 'b' });
    expect(urls(f)[0]).toBe('/api/v1/analyze/hosts/h/metrics/cpu_rate/series?end=b&start=a');
  });
});

describe('warning client', () => {
  it('lists alerts with filters', async () => {
    const f = route(() => ({ items: [], nextCursor: null }));
    await warning.alerts({ state: 'firing', hostId: 'web-1', limit: 10 });
    expect(urls(f)[0]).toBe('/api/v1/warning/alerts?hostId=web-1&limit=10&state=firing');
  });
  it('firingAlerts follows the cursor', async () => {
    const f = route((url) => (url.includes('cursor=5') ? { items: [{ id: 4 }], nextCursor: null } : { items: [{ id: 6 }, { id: 5 }], nextCursor: '5' }));
    expect((await firingAlerts()).map((a) => a.id)).toEqual([6, 5, 4]);
    expect(urls(f)).toHaveLength(2);
  });
  it('updates an existing channel with PUT and creates a new one with POST', async () => {
    const f = route(() => ({}));
    await warning.saveChannel({ name: 'ops hook', type: 'webhook', enabled: true }, true);
    await warning.saveChannel({ name: 'n', type: 'webhook', enabled: true }, false);
    expect(f.mock.calls.map((c) => `${c[1].method} ${c[0]}`)).toEqual(['PUT /api/v1/warning/channels/ops%20hook', 'POST /api/v1/warning/channels']);
  });
  it('silences: active by default, all with active=false', async () => {
    const f = route(() => []);
    await warning.silences(false);
    await warning.silences(true);
    expect(urls(f)).toEqual(['/api/v1/warning/silences', '/api/v1/warning/silences?active=false']);
  });
  it('silence preview posts the draft and returns the matching alerts', async () => {
    const f = route(() => [{ id: 7, hostId: 'web-1' }]);
    const matches = await warning.silencePreview({ ruleId: 3, hostId: null, location: 'dc1', endsAt: '2026-11-23T13:00:00Z' });
    expect(matches.map((a) => a.id)).toEqual([7]);
    expect(f.mock.calls.map((c) => `${c[1].method} ${c[0]}`)).toEqual(['POST /api/v1/warning/silences/preview']);
    expect(JSON.parse(f.mock.calls[0][1].body as string)).toEqual({ ruleId: 3, hostId: null, location: 'dc1', endsAt: '2026-11-23T13:00:00Z' });
  });
  it('silence preview surfaces the field errors of a 400 problem', async () => {
    vi.stubGlobal('fetch', vi.fn(async () => new Response(JSON.stringify({ title: 'One or more validation errors occurred.', status: 400, errors: { ruleId: ['a silence needs at least one of ruleId, hostId, location'] } }), { status: 400, headers: { 'content-type': 'application/problem+json' } })));
    const e = await warning.silencePreview({}).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ApiError);
    expect((e as ApiError).fieldErrors.ruleId).toEqual(['a silence needs at least one of ruleId, hostId, location']);
  });
});
