// Scheduled updates (admins): the composer's "Schedule" option and the list
// of updates waiting for their time, each editable (text, time),
// publishable now or cancellable.
// Only admins see them; followers see an update once it is published.
import { h, clear } from './dom.js';
import { t, fmtDate } from './i18n.js';
import { api, paths } from './api.js';
import { toast, errorSlot, showError, clearError, busy, confirmDialog } from './ui.js';

// local formats a Date for a datetime-local input (the reader's time zone).
function local(d) {
  const p = n => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}

/** scheduleOption is the composer's "Schedule" checkbox and time input. */
export function scheduleOption() {
  const check = h('input', { type: 'checkbox', id: 'compose-schedule' });
  const when = h('input', { type: 'datetime-local', id: 'compose-when', hidden: true, 'aria-label': t('schedule.when') });
  check.addEventListener('change', () => {
    when.hidden = !check.checked;
    if (check.checked) {
      when.min = local(new Date(Date.now() + 60_000));
      if (!when.value) when.value = local(new Date(Date.now() + 3_600_000));
      when.focus();
    }
  });
  return {
    el: h('span', { class: 'row schedule-option' },
      h('label', { class: 'check', for: 'compose-schedule' }, check, ' ', t('schedule.option')), when),
    /** publishAt returns the chosen time (RFC 3339), '' to publish now, null if invalid. */
    publishAt() {
      if (!check.checked) return '';
      const d = new Date(when.value);
      return isNaN(d.getTime()) || d.getTime() <= Date.now() ? null : d.toISOString();
    },
    reset() { check.checked = false; when.hidden = true; },
  };
}

/** scheduledList is the card listing a channel's scheduled updates. */
export function scheduledList(ch, onPublished) {
  const list = h('ul', { class: 'scheduled-list', id: 'scheduled-list' });
  const err = errorSlot();
  const el = h('section', { class: 'card scheduled', id: 'scheduled', 'aria-labelledby': 'scheduled-title', hidden: true },
    h('h2', { class: 'section-title', id: 'scheduled-title' }, t('schedule.title')), err, list);

  async function refresh() {
    try {
      const res = await api('GET', paths.scheduled(ch.id));
      render(res.scheduled || []);
    } catch (ex) { showError(err, ex); }
  }

  function render(items) {
    clear(list);
    el.hidden = items.length === 0;
    for (const s of items) {
      const item = paths.scheduled(ch.id) + '/' + encodeURIComponent(s.id);
      const edit = h('button', { type: 'button', class: 'btn ghost small scheduled-edit' }, t('schedule.edit'));
      const publish = h('button', { type: 'button', class: 'btn ghost small scheduled-publish' }, t('schedule.publishnow'));
      const cancel = h('button', { type: 'button', class: 'btn ghost small scheduled-cancel' }, t('schedule.cancel'));
      publish.addEventListener('click', async () => {
        clearError(err);
        try {
          const u = await busy(publish, api('POST', item + '/publish'));
          toast(t('compose.posted'));
          onPublished(u);
          refresh();
        } catch (ex) { showError(err, ex); }
      });
      cancel.addEventListener('click', async () => {
        if (!(await confirmDialog(t('schedule.cancel.confirm'), t('schedule.cancel')))) return;
        clearError(err);
        try {
          await busy(cancel, api('DELETE', item));
          toast(t('schedule.cancelled'));
          refresh();
        } catch (ex) { showError(err, ex); }
      });
      const shown = [
        h('time', { datetime: s.publish_at, class: 'scheduled-when' }, fmtDate(s.publish_at)),
        h('p', { class: 'scheduled-text' }, s.text),
        h('span', { class: 'row' }, edit, publish, cancel)];
      const li = h('li', { class: 'scheduled-item' }, shown);
      edit.addEventListener('click', () => startEdit(li, shown, s, item));
      list.appendChild(li);
    }
  }

  // startEdit swaps an item for a form changing its text and time; only
  // what changed is sent (PATCH), and the server checks the time again.
  function startEdit(li, shown, s, item) {
    if (li.querySelector('form')) return;
    const ta = h('textarea', { class: 'scheduled-edit-text', rows: 4, maxlength: 4096, 'aria-label': t('schedule.edit.text') });
    ta.value = s.text;
    const when = h('input', { type: 'datetime-local', class: 'scheduled-edit-when', 'aria-label': t('schedule.when') });
    when.value = local(new Date(s.publish_at));
    when.min = local(new Date(Date.now() + 60_000));
    const save = h('button', { type: 'submit', class: 'btn primary small scheduled-save' }, t('common.save'));
    const form = h('form', { class: 'edit-form scheduled-form' }, ta, when, h('div', { class: 'row end' },
      h('button', { type: 'button', class: 'btn ghost small scheduled-edit-cancel', onclick: () => done() }, t('common.cancel')), save));
    const done = () => { form.remove(); for (const e of shown) e.hidden = false; };
    form.addEventListener('submit', async e => {
      e.preventDefault();
      clearError(err);
      const body = {};
      if (ta.value !== s.text) body.text = ta.value;
      if (when.value !== local(new Date(s.publish_at))) {
        const d = new Date(when.value);
        if (isNaN(d.getTime()) || d.getTime() <= Date.now()) { showError(err, t('schedule.invalid')); return; }
        body.publish_at = d.toISOString();
      }
      if (!Object.keys(body).length) { done(); return; }
      try {
        await busy(save, api('PATCH', item, body));
        toast(t('schedule.saved'));
        refresh();
      } catch (ex) { showError(err, ex); }
    });
    for (const e of shown) e.hidden = true;
    li.appendChild(form);
    ta.focus();
  }

  refresh();
  return { el, refresh };
}
