// Channel settings for admins: profile and settings, the invite link with its
// QR code, the admins (owner manages them), webhooks, and deleting the channel.
import { h, clear, icon } from '../dom.js';
import { avatarEditor } from '../media.js';
import { t, fmtDate } from '../i18n.js';
import { api, paths, session } from '../api.js';
import { channelForm } from '../channelform.js';
import { webhooksSection } from '../webhooks.js';
import { inviteURL, qrImage } from '../components.js';
import { navigate, errorSlot, showError, clearError, busy, toast, confirmDialog, errorText, pageTitle, field, emptyPage } from '../ui.js';

export async function settingsView(main, [id]) {
  if (!session.account) { navigate('/signin?next=' + encodeURIComponent(location.pathname), { replace: true }); return; }
  let ch = await api('GET', paths.channel(id));
  if (!ch.viewer?.role) {
    main.appendChild(emptyPage(t('settings.forbidden'), '', h('a', { class: 'btn primary', href: '/channels/' + encodeURIComponent(id) }, t('settings.back'))));
    return;
  }
  const owner = ch.viewer.role === 'owner';
  const back = h('a', { href: '/channels/' + encodeURIComponent(ch.id), class: 'back-link' }, '← ', ch.name);
  const title = pageTitle(t('settings.title', { name: ch.name }));

  // Profile and settings.
  const f = await channelForm(ch);
  const perr = errorSlot();
  const save = h('button', { type: 'submit', class: 'btn primary', id: 'settings-save' }, t('common.save'));
  const profileForm = h('form', { class: 'card', 'aria-labelledby': 'settings-profile', novalidate: true },
    h('h2', { class: 'section-title', id: 'settings-profile' }, t('settings.profile')), perr, f.el, h('div', { class: 'row end' }, save));
  profileForm.addEventListener('submit', async e => {
    e.preventDefault();
    clearError(perr);
    const v = f.value();
    if (!v.name) { showError(perr, t('form.name.required')); return; }
    try {
      ch = await busy(save, api('PATCH', paths.channel(ch.id), v));
      title.textContent = t('settings.title', { name: ch.name });
      document.title = `${title.textContent} · Herald`;
      back.lastChild.textContent = ch.name;
      toast(t('settings.saved'));
    } catch (ex) { showError(perr, ex); }
  });

  // Invite link and QR code.
  const inviteBox = h('div', { class: 'invite-box' });
  function renderInvite() {
    clear(inviteBox);
    if (!ch.invite_code) { inviteBox.appendChild(h('p', { class: 'muted' }, t('settings.invite.none'))); return; }
    const url = inviteURL(ch.invite_code);
    const input = h('input', { id: 'invite-url', readonly: true, value: url });
    inviteBox.append(
      qrImage(ch.invite_code, ch.name),
      h('div', { class: 'invite-side' },
        field(t('settings.invite.link'), input),
        h('div', { class: 'row' },
          h('button', {
            type: 'button', class: 'btn secondary small', onclick: async () => {
              try { await navigator.clipboard.writeText(url); toast(t('common.copied')); } catch { input.select(); }
            },
          }, icon('link'), ' ', t('common.copy')),
          h('a', { class: 'btn ghost small', href: '/c/' + encodeURIComponent(ch.invite_code) }, t('settings.invite.open')),
          h('button', { type: 'button', class: 'btn ghost small danger-text', id: 'invite-rotate', onclick: e => rotate(e.currentTarget) }, icon('refresh'), ' ', t('settings.invite.rotate'))),
        h('p', { class: 'hint' }, t('settings.invite.hint'))));
  }
  async function rotate(btn) {
    if (!await confirmDialog(t('settings.invite.rotate.confirm'), t('settings.invite.rotate'))) return;
    try {
      const r = await busy(btn, api('POST', paths.channel(ch.id) + '/invite'));
      ch.invite_code = r?.invite_code || r?.code || (await api('GET', paths.channel(ch.id))).invite_code;
      renderInvite();
      toast(t('settings.invite.rotated'));
      document.getElementById('invite-rotate')?.focus();
    } catch (e) { toast(errorText(e), 'error'); }
  }
  renderInvite();

  // Admins.
  const adminList = h('ul', { class: 'admin-list', id: 'admin-list' });
  async function loadAdmins() {
    clear(adminList);
    let list = [];
    try {
      const r = await api('GET', paths.channel(ch.id) + '/admins');
      list = Array.isArray(r) ? r : r.admins || [];
    } catch (e) { adminList.appendChild(h('li', { class: 'muted' }, errorText(e))); return; }
    for (const a of list) {
      const me = a.account.id === session.account.id;
      const tools = h('span', { class: 'row' });
      if (owner && a.role !== 'owner') {
        tools.appendChild(h('button', { type: 'button', class: 'btn ghost small', onclick: e => transfer(a, e.currentTarget) }, t('settings.admins.transfer')));
      }
      if (a.role !== 'owner' && (owner || me)) {
        tools.appendChild(h('button', { type: 'button', class: 'btn ghost small danger-text', onclick: e => removeAdmin(a, e.currentTarget) }, me ? t('settings.admins.leave') : t('settings.admins.remove')));
      }
      adminList.appendChild(h('li', { class: 'admin-row' },
        h('span', { class: 'admin-who' }, h('strong', null, a.account.display_name || a.account.username), ' ', h('span', { class: 'muted' }, '@' + a.account.username)),
        h('span', { class: 'role-pill' }, t('role.' + a.role)),
        h('span', { class: 'muted small-text' }, a.added_at ? fmtDate(a.added_at) : ''),
        tools));
    }
  }
  async function removeAdmin(a, btn) {
    if (!await confirmDialog(t('settings.admins.remove.confirm', { name: a.account.username }), t('settings.admins.remove'))) return;
    try {
      await busy(btn, api('DELETE', paths.channel(ch.id) + '/admins/' + encodeURIComponent(a.account.id)));
      if (a.account.id === session.account.id) { navigate('/channels/' + encodeURIComponent(ch.id)); return; }
      loadAdmins();
    } catch (e) { toast(errorText(e), 'error'); }
  }
  async function transfer(a, btn) {
    if (!await confirmDialog(t('settings.admins.transfer.confirm', { name: a.account.username }), t('settings.admins.transfer'))) return;
    try {
      await busy(btn, api('POST', paths.channel(ch.id) + '/owner', { account_id: a.account.id }));
      toast(t('settings.admins.transferred'));
      navigate(location.pathname, { replace: true });
    } catch (e) { toast(errorText(e), 'error'); }
  }
  const addErr = errorSlot();
  const addInput = h('input', { id: 'admin-username', autocapitalize: 'none', spellcheck: 'false', autocomplete: 'off' });
  const addBtn = h('button', { type: 'submit', class: 'btn secondary' }, t('settings.admins.add'));
  const addForm = owner ? h('form', { class: 'row add-admin' }, field(t('settings.admins.username'), addInput), addBtn) : null;
  addForm?.addEventListener('submit', async e => {
    e.preventDefault();
    clearError(addErr);
    const username = addInput.value.trim().replace(/^@/, '').toLowerCase();
    if (!username) return;
    try {
      await busy(addBtn, api('POST', paths.channel(ch.id) + '/admins', { username }));
      addInput.value = '';
      toast(t('settings.admins.added', { name: username }));
      loadAdmins();
    } catch (ex) { showError(addErr, ex.status === 404 ? t('settings.admins.unknown') : ex); }
  });
  await loadAdmins();

  // Danger zone.
  const del = owner ? h('section', { class: 'card danger-zone', 'aria-labelledby': 'settings-danger' },
    h('h2', { class: 'section-title', id: 'settings-danger' }, t('settings.danger')),
    h('p', { class: 'muted' }, t('settings.delete.text')),
    h('button', {
      type: 'button', class: 'btn danger', onclick: async e => {
        if (!await confirmDialog(t('settings.delete.confirm', { name: ch.name }), t('settings.delete'))) return;
        try {
          await busy(e.currentTarget, api('DELETE', paths.channel(ch.id)));
          toast(t('settings.deleted'));
          navigate('/following');
        } catch (ex) { toast(errorText(ex), 'error'); }
      },
    }, icon('trash'), ' ', t('settings.delete'))) : null;

  main.appendChild(h('div', { class: 'medium stack' },
    back,
    title,
    profileForm,
    avatarEditor(ch, c => { ch = { ...ch, avatar_url: c.avatar_url }; }),
    h('section', { class: 'card', 'aria-labelledby': 'settings-invite' },
      h('h2', { class: 'section-title', id: 'settings-invite' }, t('settings.invite')), inviteBox),
    h('section', { class: 'card', 'aria-labelledby': 'settings-admins' },
      h('h2', { class: 'section-title', id: 'settings-admins' }, t('settings.admins')),
      h('p', { class: 'muted' }, owner ? t('settings.admins.lead.owner') : t('settings.admins.lead')),
      adminList, addErr, addForm),
    webhooksSection(ch),
    del));
}
