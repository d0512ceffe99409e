// Scheduled updates (admins): the composer's "Schedule" option and the list
// of updates waiting for their time, each publishable now or cancellable.
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
      list.appendChild(h('li', { class: 'scheduled-item' },
        h('time', { datetime: s.publish_at, class: 'scheduled-when' }, fmtDate(s.publish_at)),
        h('p', { class: 'scheduled-text' }, s.text),
        h('span', { class: 'row' }, publish, cancel)));
    }
  }

  refresh();
  return { el, refresh };
}
