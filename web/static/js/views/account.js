// The account page /account: display name, password, sessions (each can be
// ended), the export of everything Herald holds about the person, and
// deleting the account (channels owned alone are listed and confirmed).
import { h, clear } from '../dom.js';
import { t, fmtDate } from '../i18n.js';
import { api, session } from '../api.js';
import { navigate, errorSlot, showError, clearError, busy, toast, confirmDialog, errorText, pageTitle, field } from '../ui.js';

export async function accountView(main) {
  if (!session.account) { navigate('/signin?next=/account', { replace: true }); return; }
  const title = pageTitle(t('account.title'));

  // Display name.
  const nameInput = h('input', { id: 'account-name', maxlength: 64, value: session.account.display_name || '' });
  const nerr = errorSlot();
  const nameForm = h('form', { class: 'card', 'aria-labelledby': 'account-name-title', novalidate: true },
    h('h2', { class: 'section-title', id: 'account-name-title' }, t('account.name')), nerr,
    field(t('account.name.label'), nameInput),
    h('div', { class: 'row end' }, h('button', { type: 'submit', class: 'btn primary', id: 'account-name-save' }, t('common.save'))));
  nameForm.addEventListener('submit', async e => {
    e.preventDefault();
    clearError(nerr);
    try {
      const r = await busy(nameForm.querySelector('button[type=submit]'), api('PATCH', '/me', { display_name: nameInput.value }));
      session.set(r.account);
      const who = document.querySelector('.whoami');
      if (who) who.textContent = r.account.display_name || r.account.username;
      toast(t('account.name.saved'));
    } catch (ex) { showError(nerr, ex); }
  });

  // Password: every other session ends.
  const cur = h('input', { id: 'account-current', type: 'password', autocomplete: 'current-password' });
  const next = h('input', { id: 'account-new', type: 'password', autocomplete: 'new-password', minlength: 10 });
  const perr = errorSlot();
  const pwForm = h('form', { class: 'card', 'aria-labelledby': 'account-pw-title', novalidate: true },
    h('h2', { class: 'section-title', id: 'account-pw-title' }, t('account.password')), perr,
    field(t('account.password.current'), cur), field(t('account.password.new'), next, t('account.password.hint')),
    h('div', { class: 'row end' }, h('button', { type: 'submit', class: 'btn primary', id: 'account-pw-save' }, t('account.password.save'))));
  pwForm.addEventListener('submit', async e => {
    e.preventDefault();
    clearError(perr);
    try {
      await busy(pwForm.querySelector('button[type=submit]'), api('PUT', '/me/password', { current_password: cur.value, new_password: next.value }));
      cur.value = next.value = '';
      toast(t('account.password.saved'));
      loadSessions();
    } catch (ex) { showError(perr, ex); }
  });

  // Sessions.
  const list = h('ul', { class: 'sessions', id: 'sessions' });
  async function loadSessions() {
    let r;
    try { r = await api('GET', '/me/sessions'); } catch (ex) { toast(errorText(ex), 'error'); return; }
    clear(list);
    for (const s of r.sessions) {
      list.appendChild(h('li', { class: 'session-row', dataset: { id: s.id } },
        h('div', null,
          h('strong', null, s.device),
          s.current ? h('span', { class: 'role-pill' }, t('account.sessions.current')) : null,
          h('p', { class: 'muted small-text' }, t('account.sessions.meta', { created: fmtDate(s.created_at), seen: s.last_seen_on }))),
        s.current ? null : h('button', {
          type: 'button', class: 'btn ghost small danger-text', onclick: async ev => {
            try {
              await busy(ev.currentTarget, api('DELETE', '/me/sessions/' + encodeURIComponent(s.id)));
              toast(t('account.sessions.ended'));
              loadSessions();
            } catch (ex) { toast(errorText(ex), 'error'); }
          },
        }, t('account.sessions.end'))));
    }
  }
  const sessionsCard = h('section', { class: 'card', 'aria-labelledby': 'account-sessions-title' },
    h('h2', { class: 'section-title', id: 'account-sessions-title' }, t('account.sessions')), list);

  // Export.
  const exportCard = h('section', { class: 'card', 'aria-labelledby': 'account-export-title' },
    h('h2', { class: 'section-title', id: 'account-export-title' }, t('account.export')),
    h('p', { class: 'muted' }, t('account.export.text')),
    h('a', { class: 'btn secondary', id: 'account-export', href: '/api/v1/me/export', download: 'herald-export.json' }, t('account.export.download')));

  // Delete.
  const delPw = h('input', { id: 'account-delete-password', type: 'password', autocomplete: 'current-password' });
  const derr = errorSlot();
  const owned = h('div', { id: 'account-delete-channels' });
  let confirmIDs = [];
  const delForm = h('form', { class: 'card danger-zone', 'aria-labelledby': 'account-delete-title', novalidate: true },
    h('h2', { class: 'section-title', id: 'account-delete-title' }, t('account.delete')),
    h('p', { class: 'muted' }, t('account.delete.text')), derr, owned,
    field(t('account.password.current'), delPw),
    h('div', { class: 'row end' }, h('button', { type: 'submit', class: 'btn danger', id: 'account-delete' }, t('account.delete.button'))));
  delForm.addEventListener('submit', async e => {
    e.preventDefault();
    clearError(derr);
    if (!await confirmDialog(t('account.delete.confirm'), t('account.delete.button'))) return;
    try {
      await busy(delForm.querySelector('button[type=submit]'), api('DELETE', '/me', { password: delPw.value, delete_channels: confirmIDs }));
      session.set(null);
      toast(t('account.deleted'));
      navigate('/');
    } catch (ex) {
      if (ex.status === 409 && Array.isArray(ex.problem.channels)) {
        // The channels owned alone go with the account: list them; the
        // next press confirms exactly these.
        confirmIDs = ex.problem.channels.map(c => c.id);
        clear(owned);
        owned.append(h('p', null, t('account.delete.channels')),
          h('ul', null, ...ex.problem.channels.map(c => h('li', null, c.name))));
        return;
      }
      showError(derr, ex);
    }
  });

  main.append(h('div', { class: 'stack' }, title, nameForm, pwForm, sessionsCard, exportCard, delForm));
  await loadSessions();
}
