// A channel's page: profile, follow / mute, the admin composer, and the feed
// kept live by the event stream.
import { followIntent } from '../intent.js';
import { reportDialog, moderationPanel } from '../moderation.js';
import { h, clear, append, linkify, avatar, icon, whenNear } from '../dom.js';
import { t, tn, fmtNumber } from '../i18n.js';
import { api, paths, q, session } from '../api.js';
import * as events from '../events.js';
import { metaLine, verifiedBadge } from '../components.js';
import { UpdateView } from '../feed.js';
import { viewReporter } from '../viewreport.js';
import { markSeen } from '../seen.js';
import { composer } from '../composer.js';
import { scheduledList } from '../schedule.js';
import { toast, errorText, busy, emptyState, pageTitle, emptyPage } from '../ui.js';
import { pinnedStrip } from '../pin.js';

const pageSize = 20;

export async function channelView(main, [id], query) {
  let ch;
  try {
    ch = await api('GET', paths.channel(id));
  } catch (e) {
    if (e.status === 404 || e.status === 400) {
      main.appendChild(emptyPage(t('channel.notfound'), t('channel.notfound.text'), h('a', { href: '/', class: 'btn primary' }, t('nav.discover'))));
      return;
    }
    if (e.status === 401) {
      main.appendChild(emptyPage(t('channel.signin'), '', h('a', { href: '/signin?next=' + encodeURIComponent(location.pathname), class: 'btn primary' }, t('nav.signin'))));
      return;
    }
    throw e;
  }

  const views = new Map(); // update id -> UpdateView
  const seenReports = session.account ? viewReporter() : null;
  // aria-live is set after the first page so that only live arrivals are announced.
  const feed = h('div', { class: 'feed', id: 'feed' });
  const feedStatus = h('div', { class: 'feed-status' });
  const older = h('button', { type: 'button', class: 'btn secondary', id: 'load-older', hidden: true }, t('feed.older'));
  const profile = h('section', { class: 'card profile', 'aria-labelledby': 'channel-name' });
  const banner = h('div', { class: 'banner', role: 'alert', hidden: true });
  const pins = pinnedStrip(id);
  let gone = false;

  const ctx = {
    channel: () => ch,
    signedIn: () => !!session.account,
    canInteract: () => !gone && !!session.account && (ch.viewer?.following || !!ch.viewer?.role),
    onDeleted: uid => removeUpdate(uid),
    onPinned: () => pins.refresh(),
    gone: () => gone,
  };

  // What the updates were last built for: a rebuild closes an open reaction
  // picker and moves focus, so it happens only when this changes. The
  // follow button's answer and the channel.followed event of the same
  // follow may arrive in either order; whichever comes second sees nothing
  // new and leaves the updates alone.
  const buildKey = () => JSON.stringify([!!ch.viewer?.following, ch.viewer?.role || '']);
  let builtFor = buildKey();
  function rebuildIfViewerChanged() {
    const k = buildKey();
    if (k === builtFor) return;
    builtFor = k;
    for (const uv of views.values()) uv.build();
  }

  function renderProfile() {
    // A refresh from a live event must not take focus from the buttons.
    const focused = profile.contains(document.activeElement) ? document.activeElement.id : '';
    clear(profile);
    const v = ch.viewer || {};
    const actions = h('div', { class: 'profile-actions' });
    if (!session.account) {
      // Sign up first, then come back here and follow (see ?follow=1 below).
      actions.appendChild(h('a', { class: 'btn primary', id: 'follow', href: '/signup?next=' + encodeURIComponent(location.pathname + '?follow=1'), onclick: () => followIntent.set(location.pathname) }, t('channel.follow')));
    } else if (v.following) {
      actions.appendChild(h('button', { type: 'button', class: 'btn secondary', id: 'follow', 'aria-pressed': 'true', onclick: e => follow(false, e.currentTarget) }, icon('check'), ' ', t('channel.following')));
      actions.appendChild(h('button', {
        type: 'button', class: 'btn ghost', id: 'mute', 'aria-pressed': String(!!v.muted), onclick: e => mute(!v.muted, e.currentTarget),
      }, icon(v.muted ? 'belloff' : 'bell'), ' ', v.muted ? t('channel.muted') : t('channel.mute')));
    } else {
      actions.appendChild(h('button', { type: 'button', class: 'btn primary', id: 'follow', 'aria-pressed': 'false', onclick: e => follow(true, e.currentTarget) }, t('channel.follow')));
    }
    if (v.role) {
      actions.appendChild(h('a', { class: 'btn ghost', href: `/channels/${encodeURIComponent(ch.id)}/settings`, id: 'settings-link' }, icon('gear'), ' ', t('channel.settings')));
      actions.appendChild(h('a', { class: 'btn ghost', href: `/channels/${encodeURIComponent(ch.id)}/insights`, id: 'insights-link' }, t('channel.insights')));
    } else if (session.account) {
      actions.appendChild(h('button', { type: 'button', class: 'btn ghost', id: 'report', onclick: () => reportDialog(ch.id) }, t('report.button')));
    }
    const title = pageTitle(ch.name, 'channel-title');
    title.id = 'channel-name';
    // dom.append skips the nulls of absent parts (Element.append would
    // write them out as the text "null").
    append(profile, [
      h('div', { class: 'profile-head' },
        avatar(ch, 'lg'),
        h('div', { class: 'profile-id' },
          h('div', { class: 'title-row' }, title, verifiedBadge(ch)),
          ch.handle ? h('p', { class: 'handle' }, '@' + ch.handle) : null,
          metaLine(ch))),
      ch.description ? h('p', { class: 'description' }, linkify(ch.description)) : null,
      ch.suspended ? h('p', { class: 'banner', id: 'suspended-notice', role: 'status' }, t(v.role ? 'channel.suspended.admin' : 'channel.suspended')) : null,
      h('div', { class: 'profile-foot' },
        h('p', { class: 'follower-count', id: 'follower-count', dataset: { count: ch.follower_count || 0 } },
          h('strong', null, fmtNumber(ch.follower_count || 0)), ' ', h('span', null, tn('channel.followers.word', ch.follower_count || 0))),
        v.role ? h('span', { class: 'role-pill' }, t('role.' + v.role)) : null,
        actions)]);
    if (focused) document.getElementById(focused)?.focus();
  }

  async function follow(on, btn) {
    try {
      const r = await busy(btn, api(on ? 'PUT' : 'DELETE', paths.channel(ch.id) + '/follow'));
      await refreshChannel(r);
      toast(on ? t('channel.followed', { name: ch.name }) : t('channel.unfollowed', { name: ch.name }));
      rebuildIfViewerChanged();
      document.getElementById('follow')?.focus();
    } catch (e) { toast(errorText(e), 'error'); }
  }

  async function mute(on, btn) {
    try {
      const r = await busy(btn, api(on ? 'PUT' : 'DELETE', paths.channel(ch.id) + '/mute'));
      await refreshChannel(r);
      document.getElementById('mute')?.focus();
    } catch (e) { toast(errorText(e), 'error'); }
  }

  async function refreshChannel(r) {
    ch = r && r.id ? r : await api('GET', paths.channel(ch.id));
    renderProfile();
  }

  // refreshCounts rereads the channel and patches only what changed, so a
  // periodic refresh never steals focus from the profile's buttons.
  async function refreshCounts() {
    const fresh = await api('GET', paths.channel(ch.id));
    const strip = c => JSON.stringify({ ...c, follower_count: 0, last_update_at: null });
    const countOnly = strip(fresh) === strip(ch);
    ch = fresh;
    if (!countOnly) { renderProfile(); return; }
    const el = document.getElementById('follower-count');
    if (el && el.dataset.count !== String(ch.follower_count || 0)) {
      el.dataset.count = String(ch.follower_count || 0);
      el.firstChild.textContent = fmtNumber(ch.follower_count || 0);
      el.lastChild.textContent = tn('channel.followers.word', ch.follower_count || 0);
    }
  }

  function place(uv) {
    // Newest first by seq, whatever order the updates arrive in.
    const after = [...feed.children].find(el => Number(el.dataset.seq) < uv.seq);
    feed.insertBefore(uv.el, after || null);
  }

  function addUpdate(u) {
    const have = views.get(u.id);
    if (have) { have.merge(u); return have; }
    const uv = new UpdateView(u, ctx);
    views.set(u.id, uv);
    place(uv);
    seenReports?.watch(uv.el);
    emptyMsg.hidden = true;
    return uv;
  }

  function removeUpdate(uid) {
    const uv = views.get(uid);
    if (!uv) return;
    uv.el.remove();
    views.delete(uid);
    emptyMsg.hidden = views.size > 0;
  }

  function newest() {
    let m = 0;
    for (const uv of views.values()) m = Math.max(m, uv.seq);
    return m;
  }

  function oldest() {
    let m = Infinity;
    for (const uv of views.values()) m = Math.min(m, uv.seq);
    return m === Infinity ? 0 : m;
  }

  async function loadPage(before) {
    const r = await api('GET', paths.updates(ch.id) + q({ limit: pageSize, before }));
    const list = r.updates || [];
    for (const u of list) addUpdate(u);
    return list;
  }

  let loadingOlder = false;
  async function loadOlder() {
    if (loadingOlder) return;
    loadingOlder = true;
    try {
      const list = await busy(older, loadPage(oldest()));
      older.hidden = list.length < pageSize;
    } catch (e) {
      toast(errorText(e), 'error');
    } finally {
      loadingOlder = false;
    }
  }
  older.addEventListener('click', loadOlder);
  const stopNear = whenNear(older, loadOlder);

  // resync refetches the profile and the first page: after a reconnect or a
  // resync event, whatever we missed is replaced by current state.
  async function resync() {
    try {
      await refreshChannel();
      rebuildIfViewerChanged(); // followed or unfollowed elsewhere while away
      await refreshFeed();
    } catch (e) {
      if (e.status === 404) channelGone(); else console.warn('herald: resync', e);
    }
  }

  async function refreshFeed() {
    const r = await api('GET', paths.updates(ch.id) + q({ limit: pageSize }));
    const fresh = new Map((r.updates || []).map(u => [u.id, u]));
    const floor = r.updates?.length ? r.updates[r.updates.length - 1].seq : 0;
    for (const [uid, uv] of [...views]) {
      if (uv.seq >= floor && !fresh.has(uid)) removeUpdate(uid);
    }
    for (const u of fresh.values()) {
      const uv = views.get(u.id);
      if (uv) uv.merge(u, { viewer: true }); else addUpdate(u);
    }
    markSeen(ch.id, newest());
  }

  function channelGone() {
    gone = true;
    banner.hidden = false;
    banner.textContent = t('channel.deleted');
    // Nothing is left to follow, mute or post to.
    profile.querySelector('.profile-actions')?.remove();
    document.getElementById('composer')?.remove();
    for (const uv of views.values()) uv.build();
  }

  async function onEvent(ev) {
    if (ev.type === 'reconnected' || ev.type === 'resync') { resync(); return; }
    if (ev.channel_id !== ch.id) return;
    const uid = ev.update_id || ev.update?.id;
    switch (ev.type) {
      case 'update.created':
      case 'update.pinned':
      case 'update.edited': {
        let u = ev.update;
        if (!u) {
          try { u = await api('GET', paths.update(ch.id, uid)); } catch { return; }
        }
        const uv = addUpdate(u);
        if (ev.type !== 'update.created') pins.refresh();
        if (ev.type === 'update.created') {
          markSeen(ch.id, newest());
          uv.el.classList.add('fresh');
          setTimeout(() => uv.el.classList.remove('fresh'), 2500);
        }
        break;
      }
      case 'update.deleted':
        removeUpdate(uid);
        pins.refresh();
        break;
      case 'update.reactions':
        views.get(uid)?.setReactionCounts(ev.counts?.reactions || {});
        break;
      case 'update.poll':
        views.get(uid)?.setPollCounts(ev.counts?.votes || [], ev.counts?.voters);
        break;
      case 'update.views':
        views.get(uid)?.setViews(ev.counts?.views);
        break;
      case 'channel.updated':
        refreshChannel().then(() => { builtFor = buildKey(); for (const uv of views.values()) uv.build(); }).catch(() => {});
        break;
      case 'channel.deleted':
        channelGone();
        break;
      case 'channel.followed':
      case 'channel.unfollowed': {
        // Another device of ours may have followed: rebuild only if the
        // updates were built for something else.
        refreshChannel().then(rebuildIfViewerChanged).catch(() => {});
        break;
      }
    }
  }

  renderProfile();
  const emptyMsg = emptyState(t('feed.empty'), ch.viewer?.role ? t('feed.empty.admin') : t('feed.empty.text'));
  const layout = h('div', { class: 'channel-layout' }, banner, profile, pins.el);
  if (ch.viewer?.role) {
    const posted = u => {
      const uv = addUpdate(u);
      markSeen(ch.id, newest());
      uv.el.classList.add('fresh');
      setTimeout(() => uv.el.classList.remove('fresh'), 2500);
    };
    const scheduled = scheduledList(ch, posted);
    layout.appendChild(composer(ch, posted, () => scheduled.refresh()));
    layout.appendChild(scheduled.el);
  }
  layout.append(h('section', { class: 'feed-section', 'aria-labelledby': 'feed-title' },
    h('h2', { id: 'feed-title', class: 'section-title' }, t('feed.title')),
    feedStatus, emptyMsg, feed, h('div', { class: 'center' }, older)));
  main.appendChild(layout);
  // Admins see the operators' notices (and, if suspended, the review form).
  if (ch.viewer?.role) {
    const panel = await moderationPanel(ch);
    if (panel) profile.after(panel);
  }

  try {
    const list = await loadPage(0);
    pins.refresh();
    older.hidden = list.length < pageSize;
    emptyMsg.hidden = list.length > 0;
    markSeen(ch.id, newest());
    feed.setAttribute('aria-live', 'polite');
    feed.setAttribute('aria-relevant', 'additions');
    // Opened from a notification (/channels/{id}#u-{update}): show that update.
    const target = location.hash.startsWith('#u-') ? document.getElementById(decodeURIComponent(location.hash.slice(1))) : null;
    if (target && feed.contains(target)) {
      target.scrollIntoView({ block: 'center' });
      target.classList.add('fresh');
      setTimeout(() => target.classList.remove('fresh'), 2500);
    }
  } catch (e) {
    emptyMsg.hidden = true;
    feedStatus.appendChild(h('p', { class: 'muted' }, e.status === 401 || e.status === 403 ? t('feed.private') : errorText(e)));
  }

  // Back from signing up to follow: finish what the person came for, but
  // only if they pressed Follow on this page in this tab (followIntent): a
  // link with ?follow=1 opened by another site never follows by itself.
  if (query.get('follow') === '1') {
    history.replaceState(null, '', location.pathname);
    const intended = followIntent.take() === location.pathname;
    if (session.account && !ch.viewer?.following && !gone) {
      if (intended) await follow(true, document.getElementById('follow'));
      else document.getElementById('follow')?.focus();
    }
  }

  const off = events.on(onEvent);
  // Relative times ("5 minutes ago") drift; refresh them each minute.
  const ticker = setInterval(() => { for (const uv of views.values()) uv.tick(); }, 60000);
  // Updates, reactions and votes arrive on the stream, which carries every
  // channel one follows or administers (one made admin of while connected
  // included). The follower count has no event, so that no follow is ever
  // announced as it happens: an admin's page rereads it gently.
  const poll = setInterval(() => {
    if (document.hidden || gone || !ch.viewer?.role) return;
    refreshCounts().catch(() => {});
  }, 5000);
  return () => { off(); stopNear(); clearInterval(ticker); clearInterval(poll); seenReports?.stop(); };
}
