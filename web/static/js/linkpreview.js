// Link previews: the card of an update's first link, fetched by the
// server (its image served from /media, so showing it never contacts the
// linked site), with the admins' "remove preview" action.
import { h } from './dom.js';
import { t } from './i18n.js';
import { api, paths } from './api.js';
import { toast, errorText } from './ui.js';

// safeHref keeps http(s) links only.
function safeHref(url) {
  try {
    const u = new URL(url);
    return u.protocol === 'http:' || u.protocol === 'https:' ? u.href : null;
  } catch { return null; }
}

// linkCard renders uv's update's preview (null without one); admins get a
// button removing it.
export function linkCard(uv, admin) {
  const p = uv.u.link_preview;
  if (!p) return null;
  const href = safeHref(p.url);
  if (!href) return null;
  const img = p.image ? h('img', {
    class: 'link-card-image', src: p.image.thumbnail_url || p.image.url, alt: '', loading: 'lazy',
    width: p.image.width || null, height: p.image.height || null,
  }) : null;
  let host = '';
  try { host = new URL(href).hostname; } catch { /* kept empty */ }
  const card = h('div', { class: 'link-card-wrap' },
    h('a', { class: 'link-card', href, target: '_blank', rel: 'noopener noreferrer nofollow ugc' },
      img,
      h('span', { class: 'link-card-text' },
        h('span', { class: 'link-card-site' }, p.site_name || host),
        p.title ? h('strong', { class: 'link-card-title' }, p.title) : null,
        p.description ? h('span', { class: 'link-card-description' }, p.description) : null)));
  if (admin) {
    card.appendChild(h('button', {
      type: 'button', class: 'btn icon-btn link-card-remove', 'aria-label': t('preview.remove'), title: t('preview.remove'),
      onclick: async () => {
        try {
          const u = await api('DELETE', paths.update(uv.u.channel_id, uv.u.id) + '/preview');
          uv.merge(u);
          toast(t('preview.removed'));
        } catch (e) {
          toast(errorText(e), 'error');
        }
      },
    }, '×'));
  }
  return card;
}
