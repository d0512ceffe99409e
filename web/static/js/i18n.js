// Translations. The language comes from the visible switch (remembered in
// localStorage), else the browser's preferred languages; English is the
// fallback for any missing key.
import en from './i18n/en.js';
import fr from './i18n/fr.js';

const dicts = { en, fr };
export const languages = Object.keys(dicts);
const storageKey = 'herald.lang';

function detect() {
  try {
    const saved = localStorage.getItem(storageKey);
    if (saved && dicts[saved]) return saved;
  } catch { /* storage may be disabled */ }
  for (const l of navigator.languages || [navigator.language || 'en']) {
    const base = String(l).toLowerCase().split('-')[0];
    if (dicts[base]) return base;
  }
  return 'en';
}

export let lang = detect();

/** setLang switches the language and remembers the choice. */
export function setLang(l) {
  if (!dicts[l]) return;
  lang = l;
  try { localStorage.setItem(storageKey, l); } catch { /* ignore */ }
  document.documentElement.lang = l;
}
document.documentElement.lang = lang;

/** t translates key, replacing {name} placeholders with vars. */
export function t(key, vars) {
  let s = dicts[lang][key] ?? dicts.en[key] ?? key;
  if (typeof s === 'function') return s(vars || {});
  if (vars) s = s.replace(/\{(\w+)\}/g, (m, k) => (k in vars ? String(vars[k]) : m));
  return s;
}

/** plural picks key.one or key.other by n with Intl.PluralRules. */
export function tn(key, n, vars) {
  const form = new Intl.PluralRules(lang).select(n) === 'one' ? 'one' : 'other';
  return t(`${key}.${form}`, { n: fmtNumber(n), ...vars });
}

export function fmtNumber(n) {
  return new Intl.NumberFormat(lang).format(n);
}

/** fmtCompact writes 12,345 as 12K (or 12 k in French). */
export function fmtCompact(n) {
  return new Intl.NumberFormat(lang, { notation: 'compact', maximumFractionDigits: 1 }).format(n);
}

/** fmtDate writes a date and time in the reader's language. */
export function fmtDate(iso) {
  const d = new Date(iso);
  return new Intl.DateTimeFormat(lang, { dateStyle: 'medium', timeStyle: 'short' }).format(d);
}

/**
 * fmtRelative writes when something happened, always with its real time
 * visible: "5 minutes ago", "today, 14:05", "yesterday, 09:10", or the date
 * and time (never hidden in a tooltip).
 */
export function fmtRelative(iso, now = Date.now()) {
  const d = new Date(iso);
  const s = Math.round((d.getTime() - now) / 1000);
  const rtf = new Intl.RelativeTimeFormat(lang, { numeric: 'auto' });
  if (Math.abs(s) < 45) return t('time.now');
  if (Math.abs(s) < 3600) return rtf.format(Math.round(s / 60), 'minute');
  const time = new Intl.DateTimeFormat(lang, { timeStyle: 'short' }).format(d);
  const days = Math.round((startOfDay(d) - startOfDay(new Date(now))) / 86400000);
  if (days === 0 || days === -1) return `${rtf.format(days, 'day')}, ${time}`;
  return new Intl.DateTimeFormat(lang, { dateStyle: 'medium', timeStyle: 'short' }).format(d);
}

function startOfDay(d) {
  return new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime();
}

/** regionName names an ISO 3166 country in the reader's language. */
export function regionName(code) {
  if (!code) return '';
  try { return new Intl.DisplayNames([lang], { type: 'region' }).of(code) || code; } catch { return code; }
}

/** languageName names a BCP 47 language in the reader's language. */
export function languageName(tag) {
  if (!tag) return '';
  try { return new Intl.DisplayNames([lang], { type: 'language' }).of(tag) || tag; } catch { return tag; }
}
