// Loads a page's data; keeps the last data when a refresh fails (the error is shown beside it),
// re-runs when its inputs change, and auto-refreshes while the tab is visible.
import { onBeforeUnmount, ref, shallowRef, watch, type Ref, type WatchSource } from 'vue';

export interface Loader<T> {
  data: Ref<T | undefined>;
  error: Ref<string | undefined>;
  loading: Ref<boolean>;
  loadedAt: Ref<number | undefined>;
  reload: () => Promise<void>;
}

export function useLoader<T>(fetcher: (signal: AbortSignal) => Promise<T>, deps: WatchSource[] = [], refreshMs?: () => number): Loader<T> {
  const data = shallowRef<T | undefined>(undefined);
  const error = ref<string | undefined>(undefined);
  const loading = ref(false);
  const loadedAt = ref<number | undefined>(undefined);
  let controller: AbortController | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let disposed = false;

  async function reload(): Promise<void> {
    controller?.abort();
    const c = new AbortController();
    controller = c;
    loading.value = true;
    try {
      const result = await fetcher(c.signal);
      if (c.signal.aborted) return;
      data.value = result;
      error.value = undefined;
      loadedAt.value = Date.now();
    } catch (e) {
      if (c.signal.aborted || (e as Error).name === 'AbortError') return;
      error.value = (e as Error).message || String(e);
    } finally {
      if (controller === c) loading.value = false;
      schedule();
    }
  }

  function schedule(): void {
    if (timer) clearTimeout(timer);
    timer = undefined;
    const ms = refreshMs?.() ?? 0;
    if (disposed || ms <= 0) return;
    timer = setTimeout(() => {
      // Paused while the tab is hidden: the visibilitychange handler reloads when it comes back.
      if (document.visibilityState === 'hidden') return;
      void reload();
    }, ms);
  }

  function onVisible(): void {
    if (document.visibilityState === 'visible' && (refreshMs?.() ?? 0) > 0 && !loading.value) void reload();
  }
  document.addEventListener('visibilitychange', onVisible);

  watch(deps, () => void reload(), { deep: true });
  if (refreshMs) watch(refreshMs, schedule);
  void reload();

  onBeforeUnmount(() => {
    disposed = true;
    controller?.abort();
    if (timer) clearTimeout(timer);
    document.removeEventListener('visibilitychange', onVisible);
  });
  return { data, error, loading, loadedAt, reload };
}
