import { beforeEach, describe, expect, it } from 'vitest';
import { buildQuery, href, matchPath, navigate, parseQuery, patchQuery, route, startRouter } from './router';

describe('query strings', () => {
  it('parses and decodes', () => expect(parseQuery('?q=web%201&liveness=silent')).toEqual({ q: 'web 1', liveness: 'silent' }));
  it('builds sorted, without empty values', () => expect(buildQuery({ z: '1', a: 'x y', empty: '', none: undefined })).toBe('?a=x+y&z=1'));
  it('empty query is empty', () => expect(href('/hosts', {})).toBe('/hosts'));
});

describe('matchPath', () => {
  it('matches params and decodes them', () => expect(matchPath('/hosts/:id', '/hosts/web%2F1')).toEqual({ id: 'web/1' }));
  it('root', () => expect(matchPath('/', '/')).toEqual({}));
  it('no match', () => {
    expect(matchPath('/hosts/:id', '/hosts')).toBeNull();
    expect(matchPath('/alerts/:id', '/hosts/1')).toBeNull();
  });
});

describe('URL state', () => {
  beforeEach(() => {
    window.history.replaceState(null, '', '/');
    startRouter();
  });
  it('navigate pushes and back restores', async () => {
    navigate('/hosts?liveness=silent');
    expect(route.path).toBe('/hosts');
    expect(route.query).toEqual({ liveness: 'silent' });
    patchQuery({ q: 'web' });
    expect(window.location.search).toBe('?liveness=silent&q=web');
    const popped = new Promise((r) => window.addEventListener('popstate', r, { once: true }));
    window.history.back();
    await popped;
    expect(route.query).toEqual({ liveness: 'silent' });
  });
  it('patchQuery removes cleared keys', () => {
    navigate('/alerts?severity=critical&view=history');
    patchQuery({ severity: undefined });
    expect(window.location.pathname + window.location.search).toBe('/alerts?view=history');
  });
});
