// The open web: views for the public URLs the server also renders without
// JavaScript: /@handle and an update's permalink.
import { h } from '../dom.js';
import { t } from '../i18n.js';
import { toast } from '../ui.js';
import { channelView } from './channel.js';

// The server-rendered page names its channel; read it before the first
// render clears <main>. A handle needs the server to resolve it, so a
// handle URL reached inside the app is loaded as a page.
const served = document.querySelector('#main .public');
const servedPath = location.pathname;
const servedID = served ? served.dataset.public : '';

export async function handleView(main, params, query) {
  if (location.pathname === servedPath && servedID) return channelView(main, [servedID], query);
  if (location.pathname !== servedPath) { location.assign(location.pathname + location.search); return; }
  main.appendChild(h('div', { class: 'empty' },
    h('h1', { class: 'page-title' }, t('channel.notfound')),
    h('p', null, t('channel.notfound.text')),
    h('a', { href: '/', class: 'btn primary' }, t('nav.discover'))));
}

// An update's permalink opens its channel, scrolled to the update and
// highlighted.
export async function permalinkView(main, [id, seq], query) {
  const cleanup = await channelView(main, [id], query);
  const el = main.querySelector(`article.update[data-seq="${CSS.escape(seq)}"]`);
  if (el) {
    el.classList.add('highlight');
    el.scrollIntoView({ block: 'center' });
    el.tabIndex = -1;
    el.focus({ preventScroll: true });
  } else {
    toast(t('share.gone'));
  }
  return cleanup;
}
