// The installable app and notifications: registers the service worker,
// the "Notifications" switch (this device's Web Push subscription), the
// per-channel bell (mute), and what signing out must clear on the device.
import { h, icon } from './dom.js';
import { t } from './i18n.js';
import { api, paths, session } from './api.js';
import { navigate, toast, errorText, busy } from './ui.js';

// This device's subscription as the server knows it: {id, endpoint, account}.
const storeKey = 'herald.push';
const apiCache = 'herald-api';

/** registerServiceWorker installs /sw.js and lets notification clicks navigate in-app. */
export function registerServiceWorker() {
  if (!('serviceWorker' in navigator)) return;
  navigator.serviceWorker.register('/sw.js', { scope: '/' }).catch(e => console.warn('herald: service worker', e));
  navigator.serviceWorker.addEventListener('message', e => {
    const url = e.data?.type === 'open' && typeof e.data.url === 'string' ? e.data.url : '';
    // Only an in-app path: never a way to send the page elsewhere.
    if (url.startsWith('/') && !url.startsWith('//')) navigate(url);
  });
  navigator.serviceWorker.startMessages();
}

/**
 * signingOut removes this device's push subscription while the session
 * still allows it, so that a shared device stops receiving the account's
 * updates. Errors are ignored: signing out must still happen.
 */
export async function signingOut() {
  try { await disable(); } catch { /* the server drops it on the next 404/410 at worst */ }
}

/** signedOut forgets the API answers kept for offline use. */
export async function signedOut() {
  try {
    navigator.serviceWorker?.controller?.postMessage({ type: 'signed-out' });
    if (window.caches) await caches.delete(apiCache);
  } catch { /* nothing was kept */ }
}

function supported() {
  return 'serviceWorker' in navigator && 'PushManager' in window && 'Notification' in window;
}

function saved() {
  try {
    const s = JSON.parse(localStorage.getItem(storeKey) || 'null');
    return s && s.account === session.account?.id ? s : null;
  } catch { return null; }
}

async function registration() {
  await navigator.serviceWorker.register('/sw.js', { scope: '/' });
  return navigator.serviceWorker.ready;
}

async function currentSubscription() {
  const reg = await navigator.serviceWorker.getRegistration('/');
  return reg ? reg.pushManager.getSubscription() : null;
}

function b64url(s) {
  const b = atob(s.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - s.length % 4) % 4));
  return Uint8Array.from(b, c => c.charCodeAt(0));
}

function sameKey(a, b) {
  if (!a) return false;
  const x = new Uint8Array(a);
  return x.length === b.length && x.every((v, i) => v === b[i]);
}

// A browser without a reachable push service may never settle subscribe
// (Chromium without its push service does that): give up and say so.
const subscribeTimeout = 30000;

function within(ms, promise) {
  let timer;
  const late = new Promise((_, reject) => { timer = setTimeout(() => reject(new Error('push subscription timed out')), ms); });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

// enable asks for permission (only now, when the person turned the switch
// on), subscribes with the server's VAPID key and registers the device.
async function enable() {
  const perm = await Notification.requestPermission();
  if (perm !== 'granted') return perm;
  const reg = await registration();
  const { public_key: publicKey } = await api('GET', '/push/key');
  const key = b64url(publicKey);
  let sub = await reg.pushManager.getSubscription();
  if (sub && !sameKey(sub.options?.applicationServerKey, key)) {
    // Subscribed under another key (the server's changed): start again.
    await sub.unsubscribe();
    sub = null;
  }
  sub = sub || await within(subscribeTimeout, reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: key }));
  const j = sub.toJSON();
  const r = await api('POST', '/push/subscriptions', { endpoint: j.endpoint, keys: { p256dh: j.keys.p256dh, auth: j.keys.auth } });
  localStorage.setItem(storeKey, JSON.stringify({ id: r.id, endpoint: j.endpoint, account: session.account?.id }));
  return 'granted';
}

// disable unregisters the device from the server, then unsubscribes.
async function disable() {
  const s = saved();
  const sub = supported() ? await currentSubscription() : null;
  let id = s?.id;
  if (!id && sub) {
    const list = await api('GET', '/push/subscriptions');
    id = (list?.subscriptions || []).find(x => x.endpoint === sub.endpoint)?.id;
  }
  if (id) {
    try { await api('DELETE', '/push/subscriptions/' + encodeURIComponent(id)); } catch (e) { if (e.status !== 404) throw e; }
  }
  localStorage.removeItem(storeKey);
  if (sub) await sub.unsubscribe();
}

/**
 * notificationSwitch is the "Notifications on this device" switch. Its
 * data-state is one of unsupported, denied, off, on, busy.
 */
export function notificationSwitch() {
  const input = h('input', { type: 'checkbox', role: 'switch', id: 'notify-switch', class: 'switch', 'aria-describedby': 'notify-status' });
  const status = h('p', { class: 'muted small-text notify-status', id: 'notify-status', role: 'status' });
  const el = h('section', { class: 'card notify', id: 'notify', 'aria-labelledby': 'notify-label' },
    h('div', { class: 'row between' },
      h('label', { for: 'notify-switch', id: 'notify-label', class: 'notify-label' }, icon('bell'), ' ', t('notify.switch')),
      input),
    status);

  function show(state, text) {
    el.dataset.state = state;
    input.checked = state === 'on';
    input.disabled = state === 'unsupported' || state === 'denied' || state === 'busy';
    status.textContent = text;
  }

  async function refresh(note) {
    if (!supported()) { show('unsupported', t('notify.unsupported')); return; }
    if (Notification.permission === 'denied') { show('denied', t('notify.denied')); return; }
    let on = false;
    const s = saved();
    if (s && Notification.permission === 'granted') {
      try { on = (await currentSubscription())?.endpoint === s.endpoint; } catch { on = false; }
    }
    show(on ? 'on' : 'off', note || (on ? t('notify.on') : t('notify.off')));
  }

  input.addEventListener('change', async () => {
    const want = input.checked;
    show('busy', t('notify.busy'));
    try {
      if (!want) { await disable(); await refresh(); return; }
      const perm = await enable();
      await refresh(perm === 'granted' ? '' : t('notify.notgranted'));
    } catch (e) {
      console.warn('herald: notifications', e);
      const text = e.kind === 'push-unavailable' ? t('notify.unavailable') : e.status !== undefined ? errorText(e) : t('notify.failed');
      await refresh(text);
    }
  });

  refresh();
  return el;
}

/**
 * bell is a channel's notification bell: pressed = notifications on, and
 * turning it off mutes the channel (no notifications, no unread marker).
 * onChange receives the channel as the server returns it.
 */
export function bell(ch, onChange) {
  const muted = !!ch.viewer?.muted;
  const label = t(muted ? 'notify.bell.off' : 'notify.bell.on', { name: ch.name });
  const btn = h('button', {
    type: 'button', class: 'btn ghost small bell' + (muted ? ' is-muted' : ''), 'aria-pressed': String(!muted),
    'aria-label': label, title: label, dataset: { channel: ch.id },
  }, icon(muted ? 'belloff' : 'bell'));
  btn.addEventListener('click', async () => {
    try {
      const r = await busy(btn, api(muted ? 'DELETE' : 'PUT', paths.channel(ch.id) + '/mute'));
      onChange(r && r.id ? r : await api('GET', paths.channel(ch.id)));
    } catch (e) { toast(errorText(e), 'error'); }
  });
  return btn;
}
