// Unread markers: the last update seq the person has seen per channel, kept
// in localStorage on this device only (the server never learns it).
const key = 'herald.seen';

function load() {
  try { return JSON.parse(localStorage.getItem(key) || '{}') || {}; } catch { return {}; }
}

export function lastSeen(channelId) {
  return Number(load()[channelId] || 0);
}

/** markSeen records seq as seen for the channel (never moving backwards). */
export function markSeen(channelId, seq) {
  if (!seq) return;
  const m = load();
  if ((m[channelId] || 0) >= seq) return;
  m[channelId] = seq;
  try { localStorage.setItem(key, JSON.stringify(m)); } catch { /* full or disabled */ }
}
