// The invite page /c/{code}: a preview anyone can see, the QR code, and a
// follow button (signing up or in first, then following on return).
import { followIntent } from '../intent.js';
import { h, linkify, avatar, icon } from '../dom.js';
import { t, fmtNumber, tn } from '../i18n.js';
import { api, paths, session } from '../api.js';
import { metaLine, verifiedBadge, inviteURL, qrImage } from '../components.js';
import { navigate, toast, errorText, busy, pageTitle, emptyPage } from '../ui.js';

export async function inviteView(main, [code], query) {
  let ch;
  try {
    ch = await api('GET', paths.invite(code));
  } catch (e) {
    if (e.status === 404 || e.status === 400) {
      main.appendChild(emptyPage(t('invite.dead'), t('invite.dead.text'), h('a', { href: '/', class: 'btn primary' }, t('nav.discover'))));
      return;
    }
    throw e;
  }
  const here = '/c/' + encodeURIComponent(code);
  const following = !!ch.viewer?.following;
  const open = id => navigate('/channels/' + encodeURIComponent(id));

  async function follow(btn) {
    try {
      const r = await busy(btn, api('PUT', paths.invite(code) + '/follow'));
      const id = r?.id || ch.id;
      toast(t('channel.followed', { name: ch.name }));
      if (id) open(id); else navigate('/following');
    } catch (e) { toast(errorText(e), 'error'); }
  }

  const actions = h('div', { class: 'invite-actions' });
  if (!session.account) {
    const next = encodeURIComponent(here + '?follow=1');
    const intend = () => followIntent.set(here);
    actions.append(
      h('a', { class: 'btn primary big', id: 'invite-follow', href: '/signup?next=' + next, onclick: intend }, t('invite.signup')),
      h('a', { class: 'btn ghost', href: '/signin?next=' + next, onclick: intend }, t('invite.signin')));
  } else if (following && ch.id) {
    actions.append(h('a', { class: 'btn primary big', id: 'invite-open', href: '/channels/' + encodeURIComponent(ch.id) }, icon('check'), ' ', t('invite.open')));
  } else {
    actions.append(h('button', { type: 'button', class: 'btn primary big', id: 'invite-follow', onclick: e => follow(e.currentTarget) }, t('invite.follow')));
  }

  main.appendChild(h('div', { class: 'invite-page' },
    h('section', { class: 'card invite-card', 'aria-labelledby': 'invite-name' },
      h('p', { class: 'eyebrow' }, t('invite.eyebrow')),
      avatar(ch, 'xl'),
      h('div', { class: 'title-row center' }, Object.assign(pageTitle(ch.name, 'channel-title'), { id: 'invite-name' }), verifiedBadge(ch)),
      metaLine(ch),
      ch.description ? h('p', { class: 'description' }, linkify(ch.description)) : null,
      h('p', { class: 'follower-count', id: 'invite-followers' }, h('strong', null, fmtNumber(ch.follower_count || 0)), ' ', tn('channel.followers.word', ch.follower_count || 0)),
      actions,
      h('p', { class: 'muted small-text privacy-note' }, t('invite.privacy'))),
    h('aside', { class: 'card qr-card', 'aria-label': t('invite.qr') },
      qrImage(code, ch.name),
      h('p', { class: 'muted small-text' }, t('invite.scan')),
      h('code', { class: 'invite-link' }, inviteURL(code)))));

  // Back from signing up or in with ?follow=1: finish what they came for,
  // only if they pressed the button here in this tab (followIntent); a link
  // with ?follow=1 opened by another site leaves the choice to the person.
  if (session.account && query.get('follow') === '1' && !following) {
    history.replaceState(null, '', here);
    if (followIntent.take() === here) await follow(document.getElementById('invite-follow'));
    else document.getElementById('invite-follow')?.focus();
  }
}
