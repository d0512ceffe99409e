// Pinned updates: the admin's pin toggle on an update, the "Pinned" label,
// and the strip of pinned updates at the top of a channel's page.
import { h, clear } from './dom.js';
import { t } from './i18n.js';
import { api, paths } from './api.js';
import { toast, errorText } from './ui.js';
import { permalink } from './share.js';

// pinButton pins or unpins uv's update (admins); the answer (and the
// update.pinned event) update the view.
export function pinButton(uv) {
  const btn = h('button', {
    type: 'button', class: 'btn icon-btn pin-toggle',
    onclick: async () => {
      const on = !uv.u.pinned;
      try {
        const u = await api(on ? 'PUT' : 'DELETE', paths.update(uv.u.channel_id, uv.u.id) + '/pin');
        uv.merge(u);
      } catch (e) {
        toast(e.status === 409 ? t('pin.toomany') : errorText(e), 'error');
      }
    },
  }, '📌');
  renderPinButton(btn, uv.u);
  return btn;
}

export function renderPinButton(btn, u) {
  const label = u.pinned ? t('pin.unpin') : t('pin.pin');
  btn.setAttribute('aria-label', label);
  btn.title = label;
  btn.setAttribute('aria-pressed', String(!!u.pinned));
}

// pinnedStrip lists a channel's pinned updates as links to their
// permalinks; refresh() rereads them (after an update.pinned, edited or
// deleted event).
export function pinnedStrip(channelID) {
  const list = h('ul', { class: 'pinned-list' });
  const el = h('section', { class: 'card pinned-strip', id: 'pinned', hidden: true, 'aria-label': t('pin.title') },
    h('h2', { class: 'section-title' }, '📌 ', t('pin.title')), list);
  async function refresh() {
    let r;
    try { r = await api('GET', paths.channel(channelID) + '/pinned'); } catch { return; }
    clear(list);
    for (const u of r.updates || []) {
      const line = (u.text || '').split('\n')[0];
      list.appendChild(h('li', null, h('a', { href: new URL(permalink(u)).pathname, dataset: { seq: u.seq } }, line.length > 140 ? line.slice(0, 139) + '…' : line)));
    }
    el.hidden = !(r.updates || []).length;
  }
  return { el, refresh };
}
