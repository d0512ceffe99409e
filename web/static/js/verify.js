// Verified origin: the browser checks each update's Ed25519 signature
// against its channel's published keys with WebCrypto, where the browser
// has Ed25519 (docs/signatures.md). It proves the channel's server signed
// the update as shown, not which admin typed it. Nothing is shown where the
// check can't run (no Ed25519, no keys).
import { h, icon } from './dom.js';
import { t } from './i18n.js';
import { api, paths } from './api.js';

const keySets = new Map(); // channel id -> Promise<Map<key id, CryptoKey>>

function b64url(s) {
  const b = atob(s.replace(/-/g, '+').replace(/_/g, '/') + '==='.slice((s.length + 3) % 4));
  return Uint8Array.from(b, c => c.charCodeAt(0));
}

// The signed instant: RFC 3339 UTC with milliseconds, truncated, as the
// server signs it (digits are cut from the string, never rounded).
function canonicalTime(s) {
  if (s == null) return null;
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?Z$/.exec(s);
  if (m) return `${m[1]}.${(m[2] || '').padEnd(3, '0').slice(0, 3)}Z`;
  return new Date(s).toISOString();
}

// canonical is herald.CanonicalUpdate: with its members inserted in sorted
// order, JSON.stringify is RFC 8785's serialization for these values.
export function canonical(u) {
  return JSON.stringify({
    channel_id: u.channel_id,
    created_at: canonicalTime(u.created_at),
    edited_at: canonicalTime(u.edited_at),
    media: (u.media || []).map(m => ({ alt: m.alt || '', id: m.id, mime: m.mime, size: m.size })),
    poll: u.poll ? { multiple: !!u.poll.multiple, options: u.poll.options.map(o => o.text), question: u.poll.question } : null,
    seq: u.seq,
    text: u.text,
    v: 1,
  });
}

async function loadKeys(channelID) {
  const r = await api('GET', paths.channel(channelID) + '/keys/signing');
  const out = new Map();
  for (const k of r.keys || []) {
    if (k.algorithm !== 'Ed25519') continue;
    out.set(k.id, await crypto.subtle.importKey('raw', b64url(k.public_key), { name: 'Ed25519' }, false, ['verify']));
  }
  return out;
}

function keysOf(channelID, fresh) {
  if (fresh || !keySets.has(channelID)) {
    const p = loadKeys(channelID);
    keySets.set(channelID, p);
    p.catch(() => keySets.delete(channelID));
  }
  return keySets.get(channelID);
}

// verifyUpdate resolves true (valid), false (invalid) or null (can't tell:
// unsigned, no Ed25519 in this browser, or the key is unknown).
export async function verifyUpdate(u) {
  if (!u.signature || !u.key_id || !globalThis.crypto?.subtle) return null;
  try {
    let keys = await keysOf(u.channel_id);
    // A key made since the keys were read (a rotation): read them again once.
    if (!keys.has(u.key_id)) keys = await keysOf(u.channel_id, true);
    const key = keys.get(u.key_id);
    if (!key) return null;
    return await crypto.subtle.verify({ name: 'Ed25519' }, key, b64url(u.signature), new TextEncoder().encode(canonical(u)));
  } catch (e) {
    if (e instanceof DOMException && (e.name === 'NotSupportedError' || e.name === 'InvalidCharacterError')) return null;
    console.warn('herald: verifying an update', e);
    return null;
  }
}

// checkOrigin shows, in el, the verdict on u once the browser has one.
export function checkOrigin(el, u) {
  const tag = (u.signature || '') + '|' + (u.edited_at || '');
  el.dataset.checking = tag;
  el.hidden = true;
  el.replaceChildren();
  delete el.dataset.origin;
  verifyUpdate(u).then(ok => {
    if (el.dataset.checking !== tag || ok === null) return;
    el.dataset.origin = ok ? 'verified' : 'invalid';
    el.className = 'origin ' + (ok ? 'verified' : 'invalid');
    el.title = ok ? t('origin.verified.title') : t('origin.invalid.title');
    el.append(ok ? icon('verified') : h('span', { 'aria-hidden': 'true' }, '⚠'), ' ', ok ? t('origin.verified') : t('origin.invalid'));
    el.hidden = false;
  });
}
