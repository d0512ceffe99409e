// The operator console /operator (operators only; the API answers 404 to
// anyone else): the report queue grouped by target with the content as it
// is now, channel and account lookup, review requests, and the audit log. Every action
// needs a reason, which the channel's admins are told.
import { h, clear } from '../dom.js';
import { t, tn, fmtDate } from '../i18n.js';
import { api, session } from '../api.js';
import { navigate, toast, errorText, busy, pageTitle, emptyPage } from '../ui.js';

export async function operatorView(main) {
  if (!session.account) { navigate('/signin?next=/operator', { replace: true }); return; }
  try { await api('GET', '/admin/audit?limit=1'); } catch (e) {
    if (e.status === 404) { main.appendChild(emptyPage(t('operator.forbidden'), '')); return; }
    throw e;
  }
  const queue = h('div', { id: 'op-queue' });
  const reviews = h('div', { id: 'op-reviews' });
  const audit = h('div', { id: 'op-audit' });
  const lookupOut = h('div', { id: 'op-lookup-result' });

  // act runs one action with the reason typed beside its buttons.
  async function act(btn, reasonInput, body) {
    if (!reasonInput.value.trim()) { reasonInput.focus(); toast(t('operator.reason.required'), 'error'); return; }
    try {
      await busy(btn, api('POST', '/admin/actions', { ...body, reason: reasonInput.value }));
      toast(t('operator.done'));
      await refresh();
    } catch (e) { toast(errorText(e), 'error'); }
  }
  const reasonBox = id => h('input', { class: 'op-reason', id, placeholder: t('operator.reason'), 'aria-label': t('operator.reason'), maxlength: 1000 });
  const button = (label, onclick, cls) => h('button', { type: 'button', class: 'btn small ' + (cls || 'secondary'), onclick }, label);

  async function loadQueue() {
    const r = await api('GET', '/admin/reports');
    clear(queue);
    if (!r.targets.length) { queue.appendChild(h('p', { class: 'muted' }, t('operator.queue.empty'))); return; }
    for (const g of r.targets) {
      const reason = reasonBox('');
      const what = g.update ? g.update.text : (g.channel ? g.channel.description : '');
      const reasons = Object.entries(g.reasons).map(([k, n]) => `${t('report.reason.' + k)} ×${n}`).join(', ');
      const actions = h('div', { class: 'row' }, reason);
      if (g.update) actions.appendChild(button(t('operator.remove'), e => act(e.currentTarget, reason, { action: 'remove_update', channel_id: g.channel_id, update_id: g.update_id }), 'danger'));
      if (g.channel && !g.suspension) actions.appendChild(button(t('operator.suspend'), e => act(e.currentTarget, reason, { action: 'suspend_channel', channel_id: g.channel_id }), 'danger'));
      actions.appendChild(button(t('operator.dismiss'), e => act(e.currentTarget, reason, { action: 'dismiss_reports', channel_id: g.channel_id, update_id: g.update_id || '' })));
      queue.appendChild(h('article', { class: 'card op-target', dataset: { channel: g.channel_id } },
        h('h3', null, g.channel ? g.channel.name : g.channel_id, g.suspension ? ' · ' + t('operator.suspended') : ''),
        h('p', { class: 'muted small-text' }, tn('operator.reports', g.count, { reasons, at: fmtDate(g.latest_at) })),
        what ? h('blockquote', { class: 'op-content' }, what) : null,
        ...g.comments.map(c => h('p', { class: 'op-comment' }, '“', c, '”')),
        actions));
    }
  }

  async function loadReviews() {
    const r = await api('GET', '/admin/review-requests');
    clear(reviews);
    if (!r.review_requests.length) { reviews.appendChild(h('p', { class: 'muted' }, t('operator.reviews.empty'))); return; }
    for (const rr of r.review_requests) {
      const reason = reasonBox('');
      reviews.appendChild(h('article', { class: 'card op-review', dataset: { id: rr.id } },
        h('p', null, h('strong', null, t('review.reason.' + rr.reason)), ' — ', rr.text),
        h('p', { class: 'muted small-text' }, rr.channel_id, ' · ', fmtDate(rr.created_at)),
        h('div', { class: 'row' }, reason,
          button(t('operator.lift'), e => act(e.currentTarget, reason, { action: 'review_lifted', review_id: rr.id }), 'primary'),
          button(t('operator.uphold'), e => act(e.currentTarget, reason, { action: 'review_upheld', review_id: rr.id })))));
    }
  }

  async function loadAudit() {
    const r = await api('GET', '/admin/audit?limit=100');
    clear(audit);
    if (!r.entries.length) { audit.appendChild(h('p', { class: 'muted' }, t('operator.audit.empty'))); return; }
    const list = audit.appendChild(h('ol', { class: 'audit' }));
    for (const e of r.entries) {
      list.appendChild(h('li', null, h('strong', null, e.operator), ' · ', e.action, ' · ', e.target_kind, ' ', h('code', null, e.target_id), ' — ', e.reason, ' ', h('span', { class: 'muted small-text' }, fmtDate(e.created_at))));
    }
  }

  async function refresh() {
    try { await Promise.all([loadQueue(), loadReviews(), loadAudit()]); } catch (e) { toast(errorText(e), 'error'); }
  }

  const lookupInput = h('input', { id: 'op-lookup', placeholder: t('operator.lookup.placeholder'), 'aria-label': t('operator.lookup') });
  const lookupForm = h('form', { class: 'row' }, lookupInput, h('button', { type: 'submit', class: 'btn secondary' }, t('operator.lookup')));
  lookupForm.addEventListener('submit', async e => {
    e.preventDefault();
    clear(lookupOut);
    try {
      const r = await api('GET', '/admin/channels/' + encodeURIComponent(lookupInput.value.trim()));
      const reason = reasonBox('op-lookup-reason');
      const ch = r.channel;
      lookupOut.append(h('p', null, h('strong', null, ch.name), ' · ', r.suspension ? t('operator.suspended') + ' — ' + r.suspension.reason : t('operator.active'), ch.verified ? ' · ✓' : ''),
        h('div', { class: 'row' }, reason,
          r.suspension
            ? button(t('operator.liftchannel'), ev => act(ev.currentTarget, reason, { action: 'lift_channel', channel_id: ch.id }), 'primary')
            : button(t('operator.suspend'), ev => act(ev.currentTarget, reason, { action: 'suspend_channel', channel_id: ch.id }), 'danger'),
          button(ch.verified ? t('operator.unverify') : t('operator.verify'), ev => act(ev.currentTarget, reason, { action: ch.verified ? 'unverify' : 'verify', channel_id: ch.id }))));
    } catch (ex) { lookupOut.appendChild(h('p', { class: 'form-error' }, errorText(ex))); }
  });

  // Account lookup by username, with suspend / lift (a suspension ends
  // every session and open stream of the account at once).
  const accInput = h('input', { id: 'op-account', placeholder: t('operator.account.placeholder'), 'aria-label': t('operator.account'), maxlength: 64 });
  const accOut = h('div', { id: 'op-account-result' });
  const accForm = h('form', { class: 'row' }, accInput, h('button', { type: 'submit', class: 'btn secondary' }, t('operator.account')));
  async function showAccount() {
    clear(accOut);
    try {
      const { account: a } = await api('GET', '/admin/accounts/' + encodeURIComponent(accInput.value.trim()));
      const reason = reasonBox('op-account-reason');
      const run = async (btn, action) => { await act(btn, reason, { action, account_id: a.id }); if (reason.value.trim()) await showAccount(); };
      accOut.append(h('p', { id: 'op-account-state' }, h('strong', null, a.display_name), ' @', a.username, ' · ',
        a.suspended ? t('operator.suspended') : t('operator.active'), a.operator ? ' · ' + t('operator.account.operator') : '',
        ' · ', t('operator.account.since', { at: fmtDate(a.created_at) })),
      h('div', { class: 'row' }, reason,
        a.suspended
          ? button(t('operator.account.lift'), ev => run(ev.currentTarget, 'lift_account'), 'primary')
          : button(t('operator.account.suspend'), ev => run(ev.currentTarget, 'suspend_account'), 'danger')));
    } catch (ex) { accOut.appendChild(h('p', { class: 'form-error' }, errorText(ex))); }
  }
  accForm.addEventListener('submit', e => { e.preventDefault(); showAccount(); });

  main.append(h('div', { class: 'stack' }, pageTitle(t('operator.title')),
    h('section', { 'aria-labelledby': 'op-queue-title' }, h('h2', { class: 'section-title', id: 'op-queue-title' }, t('operator.queue')), queue),
    h('section', { class: 'card', 'aria-labelledby': 'op-lookup-title' }, h('h2', { class: 'section-title', id: 'op-lookup-title' }, t('operator.lookup')), lookupForm, lookupOut),
    h('section', { class: 'card', 'aria-labelledby': 'op-account-title' }, h('h2', { class: 'section-title', id: 'op-account-title' }, t('operator.account')), accForm, accOut),
    h('section', { 'aria-labelledby': 'op-reviews-title' }, h('h2', { class: 'section-title', id: 'op-reviews-title' }, t('operator.reviews')), reviews),
    h('section', { class: 'card', 'aria-labelledby': 'op-audit-title' }, h('h2', { class: 'section-title', id: 'op-audit-title' }, t('operator.audit')), audit)));
  await refresh();
}
