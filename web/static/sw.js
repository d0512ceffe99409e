// Herald's service worker (scope "/"): the app shell offline, the last API
// answers seen, and Web Push notifications.
//
// web.Handler fills BUILD in when it serves this file: the version is a hash
// of every other embedded file, so a new release is a new worker with a new
// shell cache, and the old cache is deleted when it activates.
const BUILD = {"version":"dev","shell":["/index.html"]};

const SHELL_CACHE = 'herald-shell-' + BUILD.version;
// API answers (JSON, GET) kept for offline use. They belong to whoever is
// signed in: the page and a 401 clear them, so another account never reads them.
const API_CACHE = 'herald-api';
const API_CACHE_MAX = 200;
// Streams and push plumbing are never cached.
const API_SKIP = /^\/api\/v1\/(events|ws|push)(\/|$)/;

// epoch changes at each sign-out: an answer fetched before it is not stored after it.
let epoch = 0;

self.addEventListener('install', e => {
  e.waitUntil((async () => {
    const cache = await caches.open(SHELL_CACHE);
    // cache: 'reload' skips the HTTP cache, so the shell is this release's.
    await cache.addAll(BUILD.shell.map(p => new Request(p, { cache: 'reload' })));
    // The shell is served network-first, so a page of the previous release
    // keeps working when this worker takes over at once.
    await self.skipWaiting();
  })());
});

self.addEventListener('activate', e => {
  e.waitUntil((async () => {
    for (const name of await caches.keys()) {
      if (name.startsWith('herald-shell-') && name !== SHELL_CACHE) await caches.delete(name);
    }
    await self.clients.claim();
  })());
});

self.addEventListener('message', e => {
  if (e.data?.type === 'signed-out') {
    epoch++;
    e.waitUntil(caches.delete(API_CACHE));
  }
});

self.addEventListener('fetch', e => {
  const req = e.request;
  if (req.method !== 'GET') return;
  const url = new URL(req.url);
  if (url.origin !== self.location.origin) return;
  if (url.pathname.startsWith('/api/')) {
    if (!API_SKIP.test(url.pathname)) e.respondWith(apiFirst(req, e));
    return;
  }
  e.respondWith(shell(req));
});

// shell answers from the network (the server revalidates with ETags), and
// from this release's cache when the network fails. Any page of the app is
// index.html.
async function shell(req) {
  try {
    return await fetch(req);
  } catch (err) {
    const cache = await caches.open(SHELL_CACHE);
    const hit = req.mode === 'navigate'
      ? await cache.match('/index.html')
      : await cache.match(req, { ignoreSearch: true });
    if (hit) return hit;
    throw err;
  }
}

// apiFirst answers from the network and keeps a copy of successful JSON
// answers; offline, it answers with the last copy.
async function apiFirst(req, e) {
  const started = epoch;
  let res;
  try {
    res = await fetch(req);
  } catch (err) {
    const hit = await caches.match(req, { cacheName: API_CACHE });
    if (!hit) throw err;
    // Marked, so the page can say it shows what it saw last (api.js).
    const headers = new Headers(hit.headers);
    headers.set('X-Herald-Cached', '1');
    return new Response(hit.body, { status: hit.status, headers });
  }
  if (res.status === 401) {
    // Signed out (or the session expired): nothing of the account stays.
    epoch++;
    e.waitUntil(caches.delete(API_CACHE));
  } else if (res.ok && (res.headers.get('Content-Type') || '').includes('json')) {
    const copy = res.clone();
    e.waitUntil((async () => {
      const body = await copy.blob();
      if (epoch !== started) return;
      const cache = await caches.open(API_CACHE);
      await cache.put(req, new Response(body, { status: copy.status, headers: copy.headers }));
      const keys = await cache.keys();
      for (const k of keys.slice(0, Math.max(0, keys.length - API_CACHE_MAX))) await cache.delete(k);
    })());
  }
  return res;
}

// Push: the payload is {"channel": {"id", "name"?, "avatar_url"?}, "update":
// {"id", "seq", "text"?}}. In minimal mode the server sends ids only and the
// text is fetched here, with the session cookie.
self.addEventListener('push', e => {
  e.waitUntil(notify(e.data));
});

async function notify(data) {
  let msg = {};
  try { msg = data ? data.json() : {}; } catch { msg = {}; }
  const ch = msg.channel || {};
  const up = msg.update || {};
  let name = ch.name;
  let text = up.text;
  let icon = ch.avatar_url;
  if (ch.id && name === undefined) {
    const c = await getJSON(`/api/v1/channels/${encodeURIComponent(ch.id)}`);
    name = c?.name;
    icon = icon || c?.avatar_url;
  }
  if (ch.id && up.id && text === undefined) {
    const u = await getJSON(`/api/v1/channels/${encodeURIComponent(ch.id)}/updates/${encodeURIComponent(up.id)}`);
    text = u?.text;
  }
  const url = ch.id ? `/channels/${encodeURIComponent(ch.id)}` + (up.id ? `#u-${encodeURIComponent(up.id)}` : '') : '/following';
  const opts = {
    body: text || fallbackText(),
    icon: icon || '/icons/icon-192.png',
    badge: '/icons/badge-96.png',
    data: { url, channel: ch.id || null, update: up.id || null },
  };
  // One notification per update: an edit replaces it instead of adding one.
  if (up.id) opts.tag = up.id;
  await self.registration.showNotification(name || 'Herald', opts);
}

async function getJSON(path) {
  try {
    const res = await fetch(path, { credentials: 'same-origin', headers: { Accept: 'application/json' } });
    return res.ok ? await res.json() : null;
  } catch {
    return null;
  }
}

function fallbackText() {
  return (self.navigator.language || '').toLowerCase().startsWith('fr') ? 'Nouvelle mise à jour' : 'New update';
}

// A click opens the update in its channel: in a window of the app when one
// is open (the app navigates without reloading), else in a new one.
self.addEventListener('notificationclick', e => {
  e.notification.close();
  const path = e.notification.data?.url || '/';
  e.waitUntil((async () => {
    const wins = await self.clients.matchAll({ type: 'window', includeUncontrolled: true });
    const win = wins.find(w => new URL(w.url).origin === self.location.origin);
    if (win) {
      await win.focus();
      win.postMessage({ type: 'open', url: path });
      return;
    }
    await self.clients.openWindow(path);
  })());
});

// The push service replaced the subscription: give the server the new one.
self.addEventListener('pushsubscriptionchange', e => {
  e.waitUntil((async () => {
    const old = e.oldSubscription;
    const sub = e.newSubscription || (old && await self.registration.pushManager.subscribe(old.options));
    if (!sub) return;
    const j = sub.toJSON();
    await fetch('/api/v1/push/subscriptions', {
      method: 'POST', credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
      body: JSON.stringify({ endpoint: j.endpoint, keys: { p256dh: j.keys.p256dh, auth: j.keys.auth } }),
    });
  })());
});
