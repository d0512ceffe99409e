// My channels: what I follow, with each channel's latest update and an
// unread marker (kept on this device, by last seen seq).
import { h, clear, avatar } from '../dom.js';
import { t, fmtRelative, fmtDate } from '../i18n.js';
import { api, paths, q, session } from '../api.js';
import * as events from '../events.js';
import { verifiedBadge, channelHref, followers } from '../components.js';
import { lastSeen } from '../seen.js';
import { navigate, emptyState, pageTitle, errorText } from '../ui.js';
import { notificationSwitch, bell } from '../notifications.js';

export async function followingView(main) {
  if (!session.account) { navigate('/signin?next=/following', { replace: true }); return; }
  const list = h('ul', { class: 'following-list', id: 'following' });
  const status = h('p', { class: 'muted', role: 'status' });
  const managedList = h('ul', { class: 'following-list', id: 'managed' });
  const managedSection = h('section', { class: 'managed', 'aria-labelledby': 'managed-title', hidden: true },
    h('h2', { class: 'section-title', id: 'managed-title' }, t('following.managed')), managedList);
  main.appendChild(h('div', { class: 'medium' },
    h('div', { class: 'row between' }, pageTitle(t('following.title')), h('a', { href: '/channels/new', class: 'btn secondary small' }, t('nav.create'))),
    notificationSwitch(),
    managedSection,
    h('h2', { class: 'section-title following-title', id: 'followed-title' }, t('following.followed')),
    status, list));

  // Channels I own or administer, followed or not: the server knows, so
  // the list is the same on every device.
  async function loadManaged() {
    let found;
    try {
      found = (await api('GET', '/me/managed-channels')).channels || [];
    } catch { return; } // the followed list below reports errors
    found.sort((a, b) => a.name.localeCompare(b.name));
    clear(managedList);
    for (const ch of found) {
      managedList.appendChild(h('li', { class: 'following-row', dataset: { id: ch.id } },
        h('a', { href: channelHref(ch), class: 'following-link' },
          avatar(ch),
          h('span', { class: 'following-body' },
            h('span', { class: 'following-top' }, h('span', { class: 'channel-name' }, ch.name), verifiedBadge(ch),
              h('span', { class: 'role-pill' }, t('role.' + ch.viewer.role))),
            followers(ch)))));
    }
    managedSection.hidden = found.length === 0;
  }
  loadManaged();

  const rows = new Map(); // channel id -> {ch, latest, el}

  function renderRow(r) {
    const seen = lastSeen(r.ch.id);
    // A muted channel has no unread marker (nor notifications).
    const unread = !r.ch.viewer?.muted && r.latest && r.latest.seq > seen;
    const preview = r.latest ? (r.latest.poll && r.latest.text === r.latest.poll.question ? '📊 ' : '') + r.latest.text : t('following.noupdates');
    const when = r.latest?.created_at || r.ch.last_update_at;
    const el = h('li', { class: 'following-row' + (unread ? ' unread' : ''), dataset: { id: r.ch.id } },
      h('a', { href: channelHref(r.ch), class: 'following-link' },
        avatar(r.ch),
        h('span', { class: 'following-body' },
          h('span', { class: 'following-top' },
            h('span', { class: 'channel-name' }, r.ch.name), verifiedBadge(r.ch),
            r.ch.viewer?.muted ? h('span', { class: 'pill muted-pill' }, t('channel.muted')) : null,
            when ? h('time', { datetime: when, title: fmtDate(when), class: 'muted small-text' }, fmtRelative(when)) : null),
          h('span', { class: 'following-preview' }, preview)),
        unread ? h('span', { class: 'unread-dot', title: t('following.unread') }, h('span', { class: 'visually-hidden' }, t('following.unread'))) : null),
      bell(r.ch, ch => { r.ch = { ...r.ch, viewer: ch.viewer }; renderRow(r); r.el.querySelector('.bell')?.focus(); }));
    if (r.el) r.el.replaceWith(el);
    r.el = el;
    return el;
  }

  function order() {
    const sorted = [...rows.values()].sort((a, b) => {
      const ta = new Date(a.latest?.created_at || a.ch.last_update_at || 0).getTime();
      const tb = new Date(b.latest?.created_at || b.ch.last_update_at || 0).getTime();
      return tb - ta;
    });
    for (const r of sorted) list.appendChild(r.el);
  }

  async function latestOf(ch) {
    if (!ch.last_update_at) return null;
    try {
      const r = await api('GET', paths.updates(ch.id) + q({ limit: 1 }));
      return r.updates?.[0] || null;
    } catch { return null; }
  }

  async function load() {
    let chans;
    try {
      chans = (await api('GET', '/me/channels')).channels || [];
    } catch (e) { status.textContent = errorText(e); return; }
    clear(list);
    rows.clear();
    if (!chans.length) {
      list.appendChild(h('li', null, emptyState(t('following.empty'), t('following.empty.text'), h('a', { href: '/', class: 'btn primary' }, t('nav.discover')))));
      return;
    }
    // A few requests at a time: enough to be quick, few enough to be polite.
    const queue = [...chans];
    const work = async () => {
      while (queue.length) {
        const ch = queue.shift();
        rows.set(ch.id, { ch, latest: await latestOf(ch), el: null });
      }
    };
    await Promise.all([work(), work(), work(), work()]);
    for (const r of rows.values()) renderRow(r);
    order();
  }

  const off = events.on(async ev => {
    if (ev.type === 'reconnected' || ev.type === 'resync' || ev.type === 'channel.followed' || ev.type === 'channel.unfollowed' || ev.type === 'channel.deleted' ||
        ev.type === 'channel.admin_added' || ev.type === 'channel.admin_removed') { load(); loadManaged(); return; }
    if (ev.type === 'channel.updated') loadManaged();
    const r = rows.get(ev.channel_id);
    if (!r) return;
    if (ev.type === 'update.created' && ev.update) {
      r.latest = ev.update; renderRow(r); order();
    } else if (ev.type === 'update.created' || ev.type === 'update.edited' || ev.type === 'update.deleted') {
      r.latest = await latestOf({ ...r.ch, last_update_at: r.ch.last_update_at || new Date().toISOString() });
      renderRow(r); order();
    } else if (ev.type === 'channel.updated' && ev.channel) {
      r.ch = { ...r.ch, name: ev.channel.name, verified: ev.channel.verified };
      renderRow(r);
    }
  });
  await load();
  return off;
}
