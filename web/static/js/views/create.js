// Create a channel: the creator becomes its owner.
import { h } from '../dom.js';
import { t } from '../i18n.js';
import { api, session } from '../api.js';
import { channelForm } from '../channelform.js';
import { navigate, errorSlot, showError, clearError, busy, toast, pageTitle } from '../ui.js';

export async function createView(main) {
  if (!session.account) { navigate('/signin?next=/channels/new', { replace: true }); return; }
  const f = await channelForm();
  const err = errorSlot();
  const submit = h('button', { type: 'submit', class: 'btn primary', id: 'create-submit' }, t('create.submit'));
  const form = h('form', { class: 'card', novalidate: true }, err, f.el, h('div', { class: 'row end' }, submit));
  form.addEventListener('submit', async e => {
    e.preventDefault();
    clearError(err);
    const v = f.value();
    if (!v.name) { showError(err, t('form.name.required')); f.focus(); return; }
    if (!v.handle) delete v.handle;
    try {
      const ch = await busy(submit, api('POST', '/channels', v));
      toast(t('create.done', { name: ch.name }));
      navigate('/channels/' + encodeURIComponent(ch.id));
    } catch (ex) { showError(err, ex); }
  });
  main.appendChild(h('div', { class: 'medium' }, pageTitle(t('create.title')), h('p', { class: 'lead' }, t('create.lead')), form));
}
