// Sign in and sign up. Both ask the server for a session cookie ("cookie":
// true), so no token is ever visible to scripts.
import { h } from '../dom.js';
import { t } from '../i18n.js';
import { api, session } from '../api.js';
import { navigate, field, errorSlot, showError, clearError, busy, pageTitle } from '../ui.js';

// safeNext keeps redirects inside the app: a path, never another origin.
export function safeNext(query) {
  const n = query.get('next') || '/';
  return n.startsWith('/') && !n.startsWith('//') && !n.startsWith('/\\') ? n : '/';
}

export function signInView(main, params, query) {
  const next = safeNext(query);
  const username = h('input', { name: 'username', autocomplete: 'username', required: true, autocapitalize: 'none', spellcheck: 'false' });
  const password = h('input', { name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const err = errorSlot();
  const submit = h('button', { type: 'submit', class: 'btn primary block' }, t('auth.signin'));
  const form = h('form', { class: 'card auth-card', novalidate: true },
    pageTitle(t('auth.signin.title')),
    h('p', { class: 'muted' }, t('auth.signin.lead')),
    err,
    field(t('auth.username'), username),
    field(t('auth.password'), password),
    submit,
    h('p', { class: 'muted center' }, t('auth.noaccount'), ' ',
      h('a', { href: '/signup' + (next !== '/' ? '?next=' + encodeURIComponent(next) : '') }, t('auth.signup'))));
  form.addEventListener('submit', async e => {
    e.preventDefault();
    clearError(err);
    if (!username.value.trim() || !password.value) { showError(err, t('auth.fillall')); return; }
    try {
      const r = await busy(submit, api('POST', '/sessions', { username: username.value.trim().toLowerCase(), password: password.value, cookie: true }));
      session.set(r.account);
      navigate(next, { replace: true });
    } catch (ex) {
      showError(err, ex.status === 401 ? t('auth.wrong') : ex);
      password.select();
    }
  });
  main.appendChild(h('div', { class: 'narrow' }, form));
}

export function signUpView(main, params, query) {
  const next = safeNext(query);
  const username = h('input', { name: 'username', autocomplete: 'username', required: true, minlength: 3, maxlength: 32, pattern: '[a-z0-9_.]{3,32}', autocapitalize: 'none', spellcheck: 'false' });
  const display = h('input', { name: 'display_name', autocomplete: 'name', maxlength: 64 });
  const password = h('input', { name: 'password', type: 'password', autocomplete: 'new-password', required: true, minlength: 10 });
  const err = errorSlot();
  const submit = h('button', { type: 'submit', class: 'btn primary block' }, t('auth.signup.submit'));
  const form = h('form', { class: 'card auth-card', novalidate: true },
    pageTitle(t('auth.signup.title')),
    h('p', { class: 'muted' }, t('auth.signup.lead')),
    err,
    field(t('auth.username'), username, t('auth.username.hint')),
    field(t('auth.displayname'), display, t('auth.displayname.hint')),
    field(t('auth.password'), password, t('auth.password.hint')),
    submit,
    h('p', { class: 'muted center' }, t('auth.haveaccount'), ' ',
      h('a', { href: '/signin' + (next !== '/' ? '?next=' + encodeURIComponent(next) : '') }, t('auth.signin'))));
  form.addEventListener('submit', async e => {
    e.preventDefault();
    clearError(err);
    const u = username.value.trim().toLowerCase();
    if (!/^[a-z0-9_.]{3,32}$/.test(u)) { showError(err, t('auth.username.hint')); username.focus(); return; }
    if (password.value.length < 10) { showError(err, t('auth.password.hint')); password.focus(); return; }
    try {
      const r = await busy(submit, api('POST', '/accounts', { username: u, password: password.value, display_name: display.value.trim(), cookie: true }));
      session.set(r.account);
      navigate(next, { replace: true });
    } catch (ex) {
      showError(err, ex.status === 409 ? t('auth.taken') : ex);
    }
  });
  main.appendChild(h('div', { class: 'narrow' }, form));
}
