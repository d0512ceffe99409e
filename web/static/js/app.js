// Herald's web app: a small router over plain ES modules. Each view is a
// function (main, params, query) that renders into <main> and may return a
// cleanup function, called when the person navigates away.
import { h, clear } from './dom.js';
import { t, lang, setLang } from './i18n.js';
import { api, session, loadSession, categories } from './api.js';
import * as events from './events.js';
import { setNavigate, toast, errorText } from './ui.js';
import { directoryView } from './views/directory.js';
import { channelView } from './views/channel.js';
import { settingsView } from './views/settings.js';
import { insightsView } from './views/insights.js';
import { createView } from './views/create.js';
import { inviteView } from './views/invite.js';
import { followingView } from './views/following.js';
import { signInView, signUpView } from './views/auth.js';
import { handleView, permalinkView } from './views/public.js';
import { accountView } from './views/account.js';
import { operatorView } from './views/operator.js';
import { registerServiceWorker, signingOut, signedOut } from './notifications.js';

const routes = [
  [/^\/$/, directoryView],
  [/^\/directory$/, directoryView],
  [/^\/following$/, followingView],
  [/^\/signin$/, signInView],
  [/^\/signup$/, signUpView],
  [/^\/channels\/new$/, createView],
  [/^\/channels\/([^/]+)\/settings$/, settingsView],
  [/^\/channels\/([^/]+)\/insights$/, insightsView],
  [/^\/channels\/([^/]+)$/, channelView],
  [/^\/channels\/([^/]+)\/updates\/(\d+)$/, permalinkView],
  [/^\/@([^/]+)$/, handleView],
  [/^\/c\/([^/]+)$/, inviteView],
  [/^\/account$/, accountView],
  [/^\/operator$/, operatorView],
];

const main = document.getElementById('main');
let cleanup = null;
let renderSeq = 0;

async function render() {
  const seq = ++renderSeq;
  if (typeof cleanup === 'function') {
    try { cleanup(); } catch (e) { console.error(e); }
  }
  cleanup = null;
  const path = location.pathname;
  const query = new URLSearchParams(location.search);
  let view = notFoundView;
  let params = [];
  for (const [re, v] of routes) {
    const m = path.match(re);
    if (m) { view = v; params = m.slice(1).map(decodeURIComponent); break; }
  }
  renderNav();
  clear(main);
  main.setAttribute('aria-busy', 'true');
  try {
    const c = await view(main, params, query);
    if (seq !== renderSeq) { if (typeof c === 'function') c(); return; }
    cleanup = c;
  } catch (e) {
    if (seq !== renderSeq) return;
    console.error(e);
    clear(main);
    main.appendChild(h('div', { class: 'empty' }, h('h1', { class: 'page-title' }, t('error.title')), h('p', null, errorText(e))));
  } finally {
    if (seq === renderSeq) main.removeAttribute('aria-busy');
  }
  // Move focus to the new page's heading so screen readers announce it.
  if (seq === renderSeq && !main.contains(document.activeElement)) {
    const h1 = main.querySelector('h1');
    if (h1) { h1.tabIndex = -1; h1.focus({ preventScroll: true }); }
  }
}

function notFoundView(el) {
  document.title = 'Herald';
  el.appendChild(h('div', { class: 'empty' },
    h('h1', { class: 'page-title' }, t('notfound.title')),
    h('p', null, t('notfound.text')),
    h('a', { href: '/', class: 'btn primary' }, t('nav.discover'))));
}

function navigate(path, { replace = false } = {}) {
  if (replace) history.replaceState(null, '', path);
  else history.pushState(null, '', path);
  window.scrollTo(0, 0);
  render();
}
setNavigate(navigate);

// Same-origin links navigate in-app; modified clicks, downloads and
// target=_blank keep the browser's behaviour.
document.addEventListener('click', e => {
  if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  const a = e.target.closest('a[href]');
  if (!a || a.target || a.hasAttribute('download')) return;
  const url = new URL(a.href, location.href);
  if (url.origin !== location.origin || url.pathname.startsWith('/api/')) return;
  if (url.pathname === location.pathname && url.search === location.search && url.hash) return;
  e.preventDefault();
  navigate(url.pathname + url.search);
});
window.addEventListener('popstate', render);

function renderNav() {
  const nav = document.getElementById('nav');
  clear(nav);
  const here = location.pathname;
  const link = (href, label, match) => h('a', {
    href, class: 'nav-link', 'aria-current': match(here) ? 'page' : null,
  }, label);
  nav.appendChild(link('/', t('nav.discover'), p => p === '/' || p === '/directory'));
  if (session.account) {
    nav.appendChild(link('/following', t('nav.following'), p => p === '/following'));
    nav.appendChild(link('/channels/new', t('nav.create'), p => p === '/channels/new'));
    if (session.account.operator) nav.appendChild(link('/operator', t('nav.operator'), p => p === '/operator'));
  }
  const acc = document.getElementById('account');
  clear(acc);
  if (session.account) {
    acc.appendChild(h('a', { class: 'whoami', href: '/account', title: '@' + session.account.username }, session.account.display_name || session.account.username));
    acc.appendChild(h('button', { type: 'button', class: 'btn ghost small', id: 'signout', onclick: signOut }, t('nav.signout')));
  } else {
    const next = here.startsWith('/signin') || here.startsWith('/signup') ? '' : '?next=' + encodeURIComponent(here + location.search);
    acc.appendChild(h('a', { href: '/signin' + next, class: 'btn ghost small' }, t('nav.signin')));
    acc.appendChild(h('a', { href: '/signup' + next, class: 'btn primary small' }, t('nav.signup')));
  }
  document.getElementById('lang-label').textContent = t('nav.language');
  document.querySelector('.skip').textContent = t('nav.skip');
}

async function signOut() {
  await signingOut();
  try { await api('DELETE', '/sessions/current'); } catch (e) { if (e.status !== 401) { toast(errorText(e), 'error'); return; } }
  events.stop();
  session.set(null);
  await signedOut();
  toast(t('auth.signedout'));
  navigate('/');
}

events.on(ev => {
  if (ev.type !== 'signedout' || !session.account) return;
  session.set(null);
  signedOut();
  toast(t('auth.expired'));
  render();
});

// An operator acted on a channel this account administers: say so at once
// (the reason is on the channel's page).
events.on(ev => {
  if (ev.type !== 'channel.moderated' || !ev.channel) return;
  toast(t('moderation.live', { name: ev.channel.name }), 'error');
});

session.listeners.add(acc => {
  if (acc) events.start(); else events.stop();
});

const langSwitch = document.getElementById('lang-switch');
langSwitch.value = lang;
langSwitch.addEventListener('change', async () => {
  setLang(langSwitch.value);
  try { await categories(); } catch { /* the view shows ids meanwhile */ }
  render();
});

async function boot() {
  registerServiceWorker();
  await loadSession();
  try { await categories(); } catch { /* shown as ids until the next load */ }
  render();
}
boot();
