/** What the browser remembers between visits: the wiring view's settings and the theme. */
import type { Settings } from './graph.js';
import { DEFAULT_SETTINGS } from './state.js';

const SETTINGS_KEY = 'wirescope.settings';
const THEME_KEY = 'wirescope.theme';

/** The saved settings over the defaults (a setting added since they were saved keeps its default). */
export function loadSettings(): Settings {
  return { ...DEFAULT_SETTINGS, ...JSON.parse(localStorage.getItem(SETTINGS_KEY) ?? '{}') } as Settings;
}

export function saveSettings(s: Settings): void {
  localStorage.setItem(SETTINGS_KEY, JSON.stringify(s));
}

export function applyTheme(t: string): void {
  document.documentElement.dataset.theme = t;
  localStorage.setItem(THEME_KEY, t);
}

/** The saved theme, else the system's. */
export function initialTheme(): string {
  return (
    localStorage.getItem(THEME_KEY) ?? (matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light')
  );
}

export function toggleTheme(): void {
  applyTheme(document.documentElement.dataset.theme === 'dark' ? 'light' : 'dark');
}
