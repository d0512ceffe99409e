// Pieces shared by several views: channel cards, meta lines, selects.
import { h, avatar, icon } from './dom.js';
import { t, tn, fmtCompact, regionName, languageName, lang } from './i18n.js';
import { categoryName } from './api.js';
import { countries, languageTags } from './countries.js';

export function channelHref(ch) {
  return '/channels/' + encodeURIComponent(ch.id);
}

export function verifiedBadge(ch) {
  if (!ch.verified) return null;
  return h('span', { class: 'verified', title: t('channel.verified') }, icon('verified'), h('span', { class: 'visually-hidden' }, t('channel.verified')));
}

/** metaLine lists category, country and language as small pills. */
export function metaLine(ch) {
  const items = [];
  if (ch.category) items.push(h('span', { class: 'pill' }, categoryName(ch.category)));
  if (ch.country) items.push(h('span', { class: 'pill' }, regionName(ch.country)));
  if (ch.language) items.push(h('span', { class: 'pill' }, languageName(ch.language)));
  return h('div', { class: 'meta' }, items);
}

export function followers(ch) {
  return h('span', { class: 'followers', title: tn('channel.followers', ch.follower_count || 0) },
    icon('users'), ' ', tn('channel.followers.short', ch.follower_count || 0, { c: fmtCompact(ch.follower_count || 0) }));
}

/** channelCard is one result of the directory. */
export function channelCard(ch, extra) {
  return h('li', { class: 'card channel-card' },
    h('a', { href: channelHref(ch), class: 'channel-card-link' },
      avatar(ch),
      h('span', { class: 'channel-card-body' },
        h('span', { class: 'channel-card-title' }, h('span', { class: 'channel-name' }, ch.name), verifiedBadge(ch)),
        ch.description ? h('span', { class: 'channel-card-desc' }, ch.description) : null)),
    h('div', { class: 'channel-card-foot' }, metaLine(ch), followers(ch), extra || null));
}

/** countrySelect lists every country by its name in the reader's language. */
export function countrySelect(value, emptyLabel) {
  const names = countries.map(c => [c, regionName(c)]).sort((a, b) => a[1].localeCompare(b[1], lang));
  return h('select', { name: 'country' },
    h('option', { value: '' }, emptyLabel),
    names.map(([c, n]) => h('option', { value: c, selected: c === value }, n)));
}

/** languageSelect lists common languages (and value, if it is another). */
export function languageSelect(value, emptyLabel) {
  const tags = languageTags.includes(value) || !value ? languageTags : [...languageTags, value];
  const names = tags.map(l => [l, languageName(l)]).sort((a, b) => a[1].localeCompare(b[1], lang));
  return h('select', { name: 'language' },
    h('option', { value: '' }, emptyLabel),
    names.map(([l, n]) => h('option', { value: l, selected: l === value }, n)));
}

/** inviteURL is the shareable link of an invite code on this server. */
export function inviteURL(code) {
  return location.origin + '/c/' + encodeURIComponent(code);
}

/** qrImage shows the server-rendered QR code of an invite. */
export function qrImage(code, name) {
  return h('img', {
    class: 'qr', width: 180, height: 180, id: 'invite-qr',
    src: '/api/v1/invites/' + encodeURIComponent(code) + '/qr.svg',
    alt: t('invite.qr.alt', { name }),
  });
}
