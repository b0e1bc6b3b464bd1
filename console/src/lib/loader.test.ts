import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createApp, defineComponent, h, nextTick } from 'vue';
import { useLoader, type Loader } from './loader';

/** Mounts a component that uses useLoader and hands the loader back. */
function mountLoader<T>(fetcher: (signal: AbortSignal) => Promise<T>, refreshMs?: () => number) {
  let loader!: Loader<T>;
  const app = createApp(defineComponent({ setup() { loader = useLoader(fetcher, [], refreshMs); return () => h('div'); } }));
  app.mount(document.createElement('div'));
  return { loader, unmount: () => app.unmount() };
}

const flush = async () => {
  for (let i = 0; i < 5; i++) await Promise.resolve();
  await nextTick();
};

let visibility: DocumentVisibilityState = 'visible';
beforeEach(() => {
  vi.useFakeTimers();
  visibility = 'visible';
  Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => visibility });
});
afterEach(() => vi.useRealTimers());

describe('useLoader', () => {
  it('keeps the last data when a reload fails and shows the error', async () => {
    const fetcher = vi.fn().mockResolvedValueOnce(['a']).mockRejectedValueOnce(new Error('503 InfluxDB unreachable'));
    const { loader, unmount } = mountLoader(fetcher);
    await flush();
    expect(loader.data.value).toEqual(['a']);
    await loader.reload();
    expect(loader.data.value).toEqual(['a']);
    expect(loader.error.value).toBe('503 InfluxDB unreachable');
    expect(loader.loading.value).toBe(false);
    unmount();
  });

  it('clears the error after a successful reload', async () => {
    const fetcher = vi.fn().mockRejectedValueOnce(new Error('boom')).mockResolvedValueOnce(1);
    const { loader, unmount } = mountLoader(fetcher);
    await flush();
    expect(loader.error.value).toBe('boom');
    expect(loader.data.value).toBeUndefined();
    await loader.reload();
    expect(loader.error.value).toBeUndefined();
    expect(loader.data.value).toBe(1);
    unmount();
  });

  it('auto-refreshes on its interval, pauses while the tab is hidden, and reloads when it is visible again', async () => {
    const fetcher = vi.fn().mockResolvedValue('x');
    const { unmount } = mountLoader(fetcher, () => 10_000);
    await flush();
    expect(fetcher).toHaveBeenCalledTimes(1);

    await vi.advanceTimersByTimeAsync(10_000);
    await flush();
    expect(fetcher).toHaveBeenCalledTimes(2);

    visibility = 'hidden';
    await vi.advanceTimersByTimeAsync(60_000);
    await flush();
    expect(fetcher).toHaveBeenCalledTimes(2);

    visibility = 'visible';
    document.dispatchEvent(new Event('visibilitychange'));
    await flush();
    expect(fetcher).toHaveBeenCalledTimes(3);
    unmount();
  });

  it('does not refresh when refresh is off, and stops when unmounted', async () => {
    const fetcher = vi.fn().mockResolvedValue('x');
    const off = mountLoader(fetcher, () => 0);
    await flush();
    await vi.advanceTimersByTimeAsync(600_000);
    expect(fetcher).toHaveBeenCalledTimes(1);
    off.unmount();

    const on = mountLoader(fetcher, () => 10_000);
    await flush();
    on.unmount();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(fetcher).toHaveBeenCalledTimes(2);
  });
});
