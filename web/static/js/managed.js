// Channels this account administers, remembered on this device: the API
// lists the channels one follows, and an admin need not follow their own.
// Each entry is checked against the server before it is shown.
const key = 'herald.managed';

function load() {
  try { return JSON.parse(localStorage.getItem(key) || '{}') || {}; } catch { return {}; }
}

function save(m) {
  try { localStorage.setItem(key, JSON.stringify(m)); } catch { /* full or disabled */ }
}

/** managedChannels lists the channel ids remembered for the account. */
export function managedChannels(accountId) {
  return load()[accountId] || [];
}

/** rememberManaged records (or, with on=false, forgets) that the account administers the channel. */
export function rememberManaged(accountId, channelId, on = true) {
  const m = load();
  const ids = new Set(m[accountId] || []);
  if (on === ids.has(channelId)) return;
  if (on) ids.add(channelId); else ids.delete(channelId);
  m[accountId] = [...ids];
  save(m);
}
