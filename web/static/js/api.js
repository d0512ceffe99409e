// The API client: same-origin fetch with the session cookie. Errors are the
// server's RFC 9457 problems, thrown as ApiError.
import { lang, t } from './i18n.js';

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.detail || problem?.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem || {};
    // The stable slug at the end of the problem type, e.g. "invalid-username".
    this.kind = (this.problem.type || '').split('/').pop();
    this.retryAfter = 0;
  }
}

/** api calls METHOD /api/v1{path} with an optional JSON body. */
export async function api(method, path, body, opts = {}) {
  const headers = { Accept: 'application/json, application/problem+json', 'Accept-Language': lang };
  const init = { method, headers, credentials: 'same-origin', signal: opts.signal };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch('/api/v1' + path, init);
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    throw new ApiError(0, { title: 'Network error', detail: '' });
  }
  showOffline(res.headers.get('X-Herald-Cached') === '1');
  if (res.status === 204) return null;
  let data = null;
  const ct = res.headers.get('Content-Type') || '';
  if (ct.includes('json')) {
    try { data = await res.json(); } catch { data = null; }
  }
  if (!res.ok) {
    const err = new ApiError(res.status, data);
    err.retryAfter = Number(res.headers.get('Retry-After')) || 0;
    throw err;
  }
  return data;
}

// showOffline shows the banner while the API answers come from the copies
// the service worker kept (sw.js marks them): the server is out of reach.
function showOffline(on) {
  const el = document.getElementById('offline');
  if (!el || el.hidden === !on) return;
  el.textContent = t('offline.banner');
  el.hidden = !on;
}

/** q builds a query string from the non-empty values of params. */
export function q(params) {
  const s = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== '' && v !== 0) s.set(k, String(v));
  }
  const str = s.toString();
  return str ? '?' + str : '';
}

const enc = encodeURIComponent;
export const paths = {
  channel: id => `/channels/${enc(id)}`,
  updates: id => `/channels/${enc(id)}/updates`,
  update: (id, uid) => `/channels/${enc(id)}/updates/${enc(uid)}`,
  scheduled: id => `/channels/${enc(id)}/scheduled`,
  invite: code => `/invites/${enc(code)}`,
};

// Session state: the signed-in account or null.
export const session = {
  account: null,
  listeners: new Set(),
  set(account) {
    this.account = account;
    for (const fn of this.listeners) fn(account);
  },
};

/** loadSession asks the server who we are (the cookie is HttpOnly). */
export async function loadSession() {
  try {
    const r = await api('GET', '/me');
    session.set(r?.account || null);
  } catch (e) {
    if (e.status !== 401) console.warn('herald: /me failed', e);
    session.set(null);
  }
  return session.account;
}

let categoriesCache = { lang: '', list: null };

/** categories returns [{id, name}] in the current language, cached. */
export async function categories() {
  if (categoriesCache.list && categoriesCache.lang === lang) return categoriesCache.list;
  const r = await api('GET', '/categories');
  categoriesCache = { lang, list: r.categories || [] };
  return categoriesCache.list;
}

/** categoryName returns a category's translated name (id if unknown). */
export function categoryName(id) {
  const c = categoriesCache.list?.find(c => c.id === id);
  return c ? c.name : id;
}
