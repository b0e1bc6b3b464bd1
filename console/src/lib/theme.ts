// Light and dark themes: follow the system until the user toggles; the choice is remembered.
import { ref } from 'vue';

const KEY = 'monitor-theme';
export type Theme = 'light' | 'dark';

function systemTheme(): Theme {
  return window.matchMedia?.('(prefers-color-scheme: dark)').matches ? 'dark' : 'light';
}

function stored(): Theme | null {
  try {
    const v = localStorage.getItem(KEY);
    return v === 'light' || v === 'dark' ? v : null;
  } catch {
    return null;
  }
}

export const theme = ref<Theme>(stored() ?? systemTheme());

function apply(): void {
  document.documentElement.dataset.theme = theme.value;
}

export function initTheme(): void {
  apply();
  window.matchMedia?.('(prefers-color-scheme: dark)').addEventListener?.('change', () => {
    if (!stored()) {
      theme.value = systemTheme();
      apply();
    }
  });
}

export function toggleTheme(): void {
  theme.value = theme.value === 'dark' ? 'light' : 'dark';
  try {
    localStorage.setItem(KEY, theme.value);
  } catch {
    /* private mode: not remembered */
  }
  apply();
}
