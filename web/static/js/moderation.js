// Trust and safety in the web app: the report dialog (the channel's admins
// never learn who reported), and what a suspended channel's admins see:
// the operators' notices with their reasons and the review request form.
import { h, clear } from './dom.js';
import { t, fmtDate } from './i18n.js';
import { api, paths } from './api.js';
import { toast, busy, errorSlot, showError, clearError, field } from './ui.js';

export const reportReasons = ['spam', 'scam', 'impersonation', 'violence', 'hate', 'sexual', 'child_safety', 'illegal', 'intellectual_property', 'other'];
const reviewReasons = ['misunderstood', 'follows_guidelines', 'unfair', 'other'];

/** reportDialog opens a modal to report a channel (or one of its updates). */
export function reportDialog(channelID, updateID) {
  const reason = h('select', { id: 'report-reason' }, ...reportReasons.map(r => h('option', { value: r }, t('report.reason.' + r))));
  const comment = h('textarea', { id: 'report-comment', maxlength: 1000, rows: 3 });
  const err = errorSlot();
  const send = h('button', { type: 'submit', class: 'btn primary', id: 'report-send' }, t('report.send'));
  const cancel = h('button', { type: 'button', class: 'btn ghost', onclick: () => dlg.close() }, t('common.cancel'));
  const form = h('form', { novalidate: true },
    h('h2', { class: 'section-title' }, t(updateID ? 'report.title.update' : 'report.title')), err,
    field(t('report.reason'), reason), field(t('report.comment'), comment),
    h('div', { class: 'row end' }, cancel, send));
  const dlg = h('dialog', { class: 'dialog', id: 'report-dialog', 'aria-label': t(updateID ? 'report.title.update' : 'report.title') }, form);
  form.addEventListener('submit', async e => {
    e.preventDefault();
    clearError(err);
    try {
      const body = { channel_id: channelID, reason: reason.value, comment: comment.value };
      if (updateID) body.update_id = updateID;
      await busy(send, api('POST', '/reports', body));
      dlg.close();
      toast(t('report.sent'));
    } catch (ex) { showError(err, ex); }
  });
  dlg.addEventListener('close', () => dlg.remove());
  document.body.appendChild(dlg);
  dlg.showModal();
  reason.focus();
}

/** moderationPanel shows a suspended channel's admins why, and lets the
 * owner ask for a review; it renders nothing for a channel never moderated. */
export async function moderationPanel(ch) {
  let m;
  try { m = await api('GET', paths.channel(ch.id) + '/moderation'); } catch { return null; }
  if (!m.suspension && m.notices.length === 0) return null;
  const box = h('section', { class: 'card moderation', id: 'moderation', 'aria-labelledby': 'moderation-title' },
    h('h2', { class: 'section-title', id: 'moderation-title' }, t('moderation.title')));
  if (m.notices.length) {
    box.appendChild(h('ul', { class: 'notices', id: 'notices' }, ...m.notices.map(n =>
      h('li', null, h('strong', null, t('moderation.action.' + n.action)), ' — ', n.reason, ' ', h('span', { class: 'muted small-text' }, fmtDate(n.created_at))))));
  }
  for (const r of m.review_requests) {
    box.appendChild(h('p', { class: 'review-outcome' }, r.outcome ? t('moderation.review.' + r.outcome, { reason: r.decision_reason }) : t('moderation.review.pending')));
  }
  const open = m.review_requests.some(r => !r.outcome);
  if (m.suspension && !open && ch.viewer?.role === 'owner') {
    const reason = h('select', { id: 'review-reason' }, ...reviewReasons.map(r => h('option', { value: r }, t('review.reason.' + r))));
    const text = h('textarea', { id: 'review-text', maxlength: 1000, rows: 3 });
    const err = errorSlot();
    const send = h('button', { type: 'submit', class: 'btn primary', id: 'review-send' }, t('review.send'));
    const form = h('form', { novalidate: true }, h('h3', null, t('review.title')), err, field(t('review.reason'), reason), field(t('review.text'), text), h('div', { class: 'row end' }, send));
    form.addEventListener('submit', async e => {
      e.preventDefault();
      clearError(err);
      try {
        await busy(send, api('POST', paths.channel(ch.id) + '/review-requests', { reason: reason.value, text: text.value }));
        clear(form);
        form.appendChild(h('p', { class: 'review-outcome' }, t('moderation.review.pending')));
        toast(t('review.sent'));
      } catch (ex) { showError(err, ex); }
    });
    box.appendChild(form);
  }
  return box;
}
