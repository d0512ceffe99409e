// Live events: one EventSource on /api/v1/events for the signed-in account.
// The browser's own retry runs at a fixed pace, so on any error we close the
// stream and reconnect ourselves with exponential backoff and jitter (a
// server restart must not be met by every client at the same instant), and
// resume from the last event id we saw.

const types = ['update.created', 'update.edited', 'update.pinned', 'update.deleted', 'update.reactions', 'update.poll', 'update.views',
  'channel.updated', 'channel.deleted', 'channel.followed', 'channel.unfollowed',
  'channel.admin_added', 'channel.admin_removed', 'channel.moderated', 'resync'];

const listeners = new Set();
let es = null;
let lastId = '';
let attempt = 0;
let timer = 0;
let running = false;
let connectedOnce = false;

export const status = { connected: false };

/** on registers fn(event) for every live event; returns an unsubscribe function. */
export function on(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

function emit(ev) {
  for (const fn of [...listeners]) {
    try { fn(ev); } catch (e) { console.error('herald: event listener', e); }
  }
}

function handle(msg) {
  if (msg.lastEventId) lastId = msg.lastEventId;
  let ev;
  try { ev = JSON.parse(msg.data); } catch { return; }
  if (!ev || typeof ev !== 'object') return;
  if (!ev.type && msg.type && msg.type !== 'message') ev.type = msg.type;
  emit(ev);
}

function connect() {
  clearTimeout(timer);
  if (!running) return;
  const url = '/api/v1/events' + (lastId ? '?since=' + encodeURIComponent(lastId) : '');
  const src = new EventSource(url, { withCredentials: true });
  es = src;
  src.onopen = () => {
    attempt = 0;
    status.connected = true;
    document.documentElement.dataset.live = 'on';
    // After a reconnect, views refetch what they show: a safety net should
    // the server have been unable to replay everything we missed.
    if (connectedOnce) emit({ type: 'reconnected' });
    connectedOnce = true;
  };
  src.onmessage = handle;
  for (const ty of types) src.addEventListener(ty, handle);
  src.onerror = () => {
    if (es !== src) return;
    src.close();
    es = null;
    status.connected = false;
    document.documentElement.dataset.live = 'off';
    schedule();
  };
}

async function schedule() {
  if (!running) return;
  // Repeated failures may mean the session ended (signed out elsewhere or
  // expired): ask once before retrying forever.
  if (attempt >= 2) {
    try {
      const r = await fetch('/api/v1/me', { credentials: 'same-origin' });
      if (r.status === 401) {
        stop();
        emit({ type: 'signedout' });
        return;
      }
    } catch { /* offline: keep retrying */ }
    if (!running) return;
  }
  // Exponential backoff from 1 s to 30 s, with "equal jitter": half fixed,
  // half random, so clients spread out but none retries at once.
  const cap = Math.min(30000, 1000 * 2 ** attempt);
  const delay = cap / 2 + Math.random() * (cap / 2);
  attempt = Math.min(attempt + 1, 10);
  timer = setTimeout(connect, delay);
}

/** start opens the stream (idempotent). */
export function start() {
  if (running) return;
  running = true;
  attempt = 0;
  connect();
}

/** stop closes the stream and forgets the position (signing out). */
export function stop() {
  running = false;
  clearTimeout(timer);
  if (es) es.close();
  es = null;
  lastId = '';
  connectedOnce = false;
  status.connected = false;
  document.documentElement.dataset.live = 'off';
}

/** restart reopens the stream now, keeping the position (for example after
 * following a channel, if the server picks subscriptions at connect time). */
export function restart() {
  if (!running) return;
  if (es) es.close();
  es = null;
  attempt = 0;
  connect();
}
