// The Webhooks section of channel settings: register https URLs for the
// channel's events (the signing secret is shown once), enable or disable,
// rotate the secret, read the delivery log, delete (docs/webhooks.md).
import { h, clear, icon } from './dom.js';
import { t, fmtDate } from './i18n.js';
import { api, paths } from './api.js';
import { errorSlot, showError, clearError, busy, toast, confirmDialog, errorText, field } from './ui.js';

const EVENTS = ['update.created', 'update.edited', 'update.deleted', 'update.reactions', 'update.poll', 'channel.updated'];

export function webhooksSection(ch) {
  const base = paths.channel(ch.id) + '/webhooks';
  const list = h('ul', { class: 'admin-list', id: 'webhook-list' });
  const secretBox = h('div', { id: 'webhook-secret', class: 'stack', hidden: true });
  const err = errorSlot();

  function showSecret(secret) {
    clear(secretBox);
    const input = h('input', { type: 'text', readonly: true, value: secret, class: 'mono' });
    secretBox.append(field(t('webhooks.secret'), input, t('webhooks.secret.hint')),
      h('button', { type: 'button', class: 'btn ghost small', onclick: async () => {
        try { await navigator.clipboard.writeText(secret); toast(t('common.copied')); } catch { input.select(); }
      } }, t('webhooks.secret.copy')));
    secretBox.hidden = false;
  }

  async function load() {
    clear(list);
    let hooks = [];
    try {
      hooks = (await api('GET', base)).webhooks || [];
    } catch (e) { list.appendChild(h('li', { class: 'muted' }, errorText(e))); return; }
    if (!hooks.length) list.appendChild(h('li', { class: 'muted' }, t('webhooks.none')));
    for (const w of hooks) {
      let state = t('webhooks.enabled');
      if (!w.enabled) state = w.disabled_reason ? t('webhooks.disabled.reason', { reason: w.disabled_reason }) : t('webhooks.disabled');
      else if (w.failing_since) state = t('webhooks.failing', { date: fmtDate(w.failing_since) });
      const log = h('ol', { class: 'webhook-log small-text', hidden: true });
      list.appendChild(h('li', { class: 'admin-row webhook-row' },
        h('span', { class: 'admin-who' }, h('strong', { class: 'mono' }, w.url), ' ', h('span', { class: 'muted' }, w.events.join(', '))),
        h('span', { class: 'role-pill' }, state),
        h('span', { class: 'row' },
          h('button', { type: 'button', class: 'btn ghost small', onclick: e => toggle(w, e.currentTarget) }, w.enabled ? t('webhooks.disable') : t('webhooks.enable')),
          h('button', { type: 'button', class: 'btn ghost small', onclick: e => showLog(w, log, e.currentTarget) }, t('webhooks.log')),
          h('button', { type: 'button', class: 'btn ghost small', onclick: e => rotate(w, e.currentTarget) }, icon('refresh'), ' ', t('webhooks.rotate')),
          h('button', { type: 'button', class: 'btn ghost small danger-text', onclick: e => remove(w, e.currentTarget) }, icon('trash'), ' ', t('webhooks.delete'))),
        log));
    }
  }

  async function toggle(w, btn) {
    try {
      await busy(btn, api('PATCH', base + '/' + encodeURIComponent(w.id), { enabled: !w.enabled }));
      load();
    } catch (e) { toast(errorText(e), 'error'); }
  }
  async function rotate(w, btn) {
    if (!await confirmDialog(t('webhooks.rotate.confirm'), t('webhooks.rotate'))) return;
    try {
      const r = await busy(btn, api('POST', base + '/' + encodeURIComponent(w.id) + '/rotate'));
      showSecret(r.secret);
    } catch (e) { toast(errorText(e), 'error'); }
  }
  async function remove(w, btn) {
    if (!await confirmDialog(t('webhooks.delete.confirm', { url: w.url }), t('webhooks.delete'))) return;
    try {
      await busy(btn, api('DELETE', base + '/' + encodeURIComponent(w.id)));
      load();
    } catch (e) { toast(errorText(e), 'error'); }
  }
  async function showLog(w, log, btn) {
    if (!log.hidden) { log.hidden = true; return; }
    clear(log);
    try {
      const r = await busy(btn, api('GET', base + '/' + encodeURIComponent(w.id) + '/deliveries'));
      const entries = r.deliveries || [];
      if (!entries.length) log.appendChild(h('li', { class: 'muted' }, t('webhooks.log.empty')));
      for (const d of entries) {
        log.appendChild(h('li', null, fmtDate(d.at), ' · ', d.event_type, ' · ',
          t('webhooks.log.attempt', { n: d.attempt }), ' · ', d.status ? String(d.status) : '—', ' · ',
          t('webhooks.log.latency', { ms: d.latency_ms }), d.error ? ' · ' + d.error : ''));
      }
      log.hidden = false;
    } catch (e) { toast(errorText(e), 'error'); }
  }

  const url = h('input', { type: 'url', required: true, maxlength: 2048, placeholder: 'https://', id: 'webhook-url' });
  const boxes = EVENTS.map(ev => h('label', { class: 'check' }, h('input', { type: 'checkbox', value: ev, checked: true }), ' ', ev));
  const add = h('button', { type: 'submit', class: 'btn secondary' }, t('webhooks.add'));
  const form = h('form', { class: 'stack', novalidate: true },
    field(t('webhooks.url'), url, t('webhooks.url.hint')),
    h('fieldset', null, h('legend', null, t('webhooks.events')), h('div', { class: 'row' }, ...boxes)),
    err, h('div', { class: 'row end' }, add));
  form.addEventListener('submit', async e => {
    e.preventDefault();
    clearError(err);
    const events = boxes.map(b => b.querySelector('input')).filter(i => i.checked).map(i => i.value);
    if (!url.value.trim()) { showError(err, t('webhooks.url.required')); return; }
    if (!events.length) { showError(err, t('webhooks.events.required')); return; }
    try {
      const w = await busy(add, api('POST', base, { url: url.value.trim(), events }));
      url.value = '';
      showSecret(w.secret);
      load();
    } catch (ex) { showError(err, ex); }
  });

  load();
  return h('section', { class: 'card', 'aria-labelledby': 'settings-webhooks' },
    h('h2', { class: 'section-title', id: 'settings-webhooks' }, t('webhooks.title')),
    h('p', { class: 'muted' }, t('webhooks.lead')),
    list, secretBox, form);
}
