// One update in a feed: text with safe links, time, "edited" mark, reaction
// counts with a picker, a poll with live counts, and admin edit/delete.
// The article is built once; counts, text and poll results are patched in
// place so that a live count change never closes an open picker or loses a
// half-made poll choice.
import { h, clear, linkify, icon } from './dom.js';
import { t, tn, fmtDate, fmtRelative, fmtNumber } from './i18n.js';
import { api, paths } from './api.js';
import { defaultReactions, moreReactions } from './emoji.js';
import { shareButton } from './share.js';
import { checkOrigin } from './verify.js';
import { pinButton, renderPinButton } from './pin.js';
import { toast, errorText, confirmDialog, busy, navigate } from './ui.js';
import { renderMedia } from './media.js';
import { linkCard } from './linkpreview.js';
import { reportDialog } from './moderation.js';

/**
 * UpdateView renders and keeps one update current.
 * ctx: {channel(): Channel, canInteract(): bool, signedIn(): bool, onDeleted(id)}
 */
export class UpdateView {
  constructor(u, ctx) {
    this.u = u;
    this.ctx = ctx;
    this.el = h('article', { class: 'card update', id: 'u-' + u.id, dataset: { seq: u.seq, id: u.id }, 'aria-labelledby': 'u-' + u.id + '-time' });
    this.build();
  }

  get id() { return this.u.id; }
  get seq() { return this.u.seq; }

  build() {
    const u = this.u;
    const ch = this.ctx.channel();
    const admin = !!ch.viewer?.role;
    this.textEl = h('div', { class: 'update-text' });
    this.timeEl = h('time', { id: 'u-' + u.id + '-time', datetime: u.created_at, title: fmtDate(u.created_at) });
    this.editedEl = h('span', { class: 'edited', hidden: true });
    this.originEl = h('span', { class: 'origin', hidden: true });
    this.pinnedEl = h('span', { class: 'pinned-label', hidden: !u.pinned }, '📌 ', t('pin.label'));
    this.pinBtn = admin && !this.ctx.gone?.() ? pinButton(this) : null;
    this.reactionsEl = h('div', { class: 'reactions', role: 'group', 'aria-label': t('react.group') });
    this.countsEl = h('p', { class: 'admin-counts', hidden: !admin });
    this.pollEl = u.poll ? h('div', { class: 'poll' }) : null;
    const head = h('header', { class: 'update-head' },
      h('span', { class: 'update-when' }, this.pinnedEl, this.timeEl, this.editedEl, this.originEl),
      shareButton(u),
      admin && !this.ctx.gone?.() ? h('span', { class: 'update-tools' },
        h('button', { type: 'button', class: 'btn icon-btn', 'aria-label': t('update.edit'), title: t('update.edit'), onclick: () => this.startEdit() }, icon('edit')),
        h('button', { type: 'button', class: 'btn icon-btn danger-text', 'aria-label': t('update.delete'), title: t('update.delete'), onclick: () => this.remove() }, icon('trash')), this.pinBtn) : null,
      // Anyone signed in but the channel's admins may report one update.
      !admin && this.ctx.signedIn() && !this.ctx.gone?.() ? h('button', {
        type: 'button', class: 'btn icon-btn report-update', 'aria-label': t('report.update'), title: t('report.update'),
        onclick: () => reportDialog(ch.id, u.id),
      }, icon('flag')) : null);
    this.pickerEl = null;
    this.reactRow = h('div', { class: 'react-row' }, this.reactionsEl);
    if (ch.reactions !== 'none' && !this.ctx.gone?.()) {
      this.pickBtn = h('button', {
        type: 'button', class: 'btn icon-btn react-add', 'aria-expanded': 'false',
        'aria-label': t('react.add'), title: t('react.add'), onclick: () => this.togglePicker(),
      }, icon('smile'), h('span', { class: 'plus' }, '+'));
      this.reactRow.appendChild(this.pickBtn);
    }
    clear(this.el);
    this.el.append(head, this.textEl);
    this.mediaEl = h('div', { class: 'media-slot' });
    this.el.appendChild(this.mediaEl);
    this.renderMedia();
    this.previewEl = h('div', { class: 'preview-slot' });
    this.el.appendChild(this.previewEl);
    this.renderPreview();
    if (this.pollEl) this.el.appendChild(this.pollEl);
    this.el.append(this.reactRow, this.countsEl);
    this.renderText();
    this.renderReactions();
    if (this.pollEl) this.buildPoll();
    this.renderCounts();
    this.tick();
  }

  tick() {
    this.timeEl.textContent = fmtRelative(this.u.created_at);
  }

  /** merge applies fresh server data; the viewer part is kept unless given. */
  merge(nu, { viewer = false } = {}) {
    const old = this.u;
    const keepViewer = old.viewer;
    this.u = { ...old, ...nu };
    if (!viewer || !nu.viewer) this.u.viewer = keepViewer;
    if (nu.text !== old.text || nu.edited_at !== old.edited_at) this.renderText();
    if (nu.pinned !== undefined && nu.pinned !== old.pinned) {
      this.pinnedEl.hidden = !this.u.pinned;
      if (this.pinBtn) renderPinButton(this.pinBtn, this.u);
      this.ctx.onPinned?.();
    }
    if (nu.media && JSON.stringify(nu.media) !== JSON.stringify(old.media)) this.renderMedia();
    // A whole update (an answer or an event) says whether it has a preview.
    if ('text' in nu) this.u.link_preview = nu.link_preview;
    if (JSON.stringify(this.u.link_preview) !== JSON.stringify(old.link_preview)) this.renderPreview();
    this.renderReactions();
    if (this.pollEl && this.u.poll) this.renderPollCounts();
    this.renderCounts();
  }

  setReactionCounts(map) {
    this.u.reactions = map || {};
    this.renderReactions();
    this.renderCounts();
  }

  setViews(n) {
    if (typeof n !== 'number') return;
    this.u.views = n;
    this.renderCounts();
  }

  setPollCounts(votes, voters) {
    if (!this.u.poll) return;
    const p = { ...this.u.poll, options: this.u.poll.options.map((o, i) => ({ ...o, votes: votes?.[i] ?? 0 })) };
    if (voters !== undefined && voters !== null) p.voters = voters;
    this.u.poll = p;
    this.renderPollCounts();
    this.renderCounts();
  }

  renderText() {
    clear(this.textEl);
    this.textEl.append(...linkify(this.u.text || ''));
    // A poll posted alone carries its question as text: don't say it twice.
    this.textEl.classList.toggle('same-as-poll', !!this.u.poll && this.u.text.trim() === this.u.poll.question.trim());
    if (this.u.edited_at) {
      this.editedEl.hidden = false;
      this.editedEl.textContent = t('update.edited');
      this.editedEl.title = fmtDate(this.u.edited_at);
    } else {
      this.editedEl.hidden = true;
    }
    checkOrigin(this.originEl, this.u);
  }

  renderMedia() {
    clear(this.mediaEl);
    const m = renderMedia(this.u.media);
    if (m) this.mediaEl.appendChild(m);
  }

  renderPreview() {
    clear(this.previewEl);
    const admin = !!this.ctx.channel().viewer?.role && !this.ctx.gone?.();
    const card = linkCard(this, admin);
    if (card) this.previewEl.appendChild(card);
  }

  renderReactions() {
    clear(this.reactionsEl);
    const ch = this.ctx.channel();
    const mine = this.u.viewer?.reaction || null;
    const entries = Object.entries(this.u.reactions || {}).filter(([, n]) => n > 0).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
    for (const [emoji, n] of entries) {
      const pressed = emoji === mine;
      const label = t(pressed ? 'react.chip.mine' : 'react.chip', { emoji, n: fmtNumber(n) });
      if (ch.reactions === 'none' || !this.ctx.canInteract()) {
        this.reactionsEl.appendChild(h('span', { class: 'reaction static', title: label, dataset: { emoji } },
          h('span', { 'aria-hidden': 'true' }, emoji), h('span', { class: 'count', 'aria-hidden': 'true' }, fmtNumber(n)), h('span', { class: 'visually-hidden' }, label)));
      } else {
        this.reactionsEl.appendChild(h('button', {
          type: 'button', class: 'reaction', 'aria-pressed': String(pressed), dataset: { emoji }, 'aria-label': label,
          onclick: () => (pressed ? this.unreact() : this.react(emoji)),
        }, h('span', { 'aria-hidden': 'true' }, emoji), h('span', { class: 'count', 'aria-hidden': 'true' }, fmtNumber(n))));
      }
    }
  }

  renderCounts() {
    if (this.countsEl.hidden) return;
    const total = Object.values(this.u.reactions || {}).reduce((a, b) => a + b, 0);
    const parts = [tn('counts.reactions', total)];
    if (this.u.poll) parts.push(tn('counts.voters', this.u.poll.voters || 0));
    if (typeof this.u.views === 'number') parts.push(tn('counts.views', this.u.views));
    this.countsEl.textContent = parts.join(' · ');
  }

  togglePicker(force) {
    const open = force ?? !this.pickerEl;
    if (!open) {
      if (this.pickerEl) this.pickerEl.remove();
      this.pickerEl = null;
      this.pickBtn?.setAttribute('aria-expanded', 'false');
      return;
    }
    if (!this.ctx.signedIn()) { navigate('/signin?next=' + encodeURIComponent(location.pathname)); return; }
    if (!this.ctx.canInteract()) { toast(t('react.follow.first')); return; }
    if (this.pickerEl) return;
    const ch = this.ctx.channel();
    const set = ch.reactions === 'default' ? defaultReactions : [...defaultReactions, ...moreReactions];
    const mine = this.u.viewer?.reaction || null;
    const pid = 'pick-' + this.u.id;
    const grid = h('div', { class: 'emoji-grid', role: 'group', 'aria-label': t('react.choose') },
      set.map(e => h('button', {
        type: 'button', class: 'emoji-btn', 'aria-pressed': String(e === mine), 'aria-label': t('react.with', { emoji: e }),
        onclick: () => { this.togglePicker(false); this.pickBtn.focus(); this.react(e); },
      }, e)));
    // Arrow keys move between emoji, as in any grid of choices.
    grid.addEventListener('keydown', e => {
      const btns = [...grid.querySelectorAll('button')];
      const i = btns.indexOf(document.activeElement);
      if (i < 0) return;
      const cols = btns.filter(b => b.offsetTop === btns[0].offsetTop).length || 1;
      const step = { ArrowRight: 1, ArrowLeft: -1, ArrowDown: cols, ArrowUp: -cols }[e.key];
      if (step === undefined) return;
      e.preventDefault();
      btns[Math.min(btns.length - 1, Math.max(0, i + step))].focus();
    });
    const parts = [grid];
    if (ch.reactions !== 'default') {
      const inp = h('input', { class: 'emoji-input', maxlength: 32, autocomplete: 'off', id: pid + '-free', placeholder: '🙂' });
      parts.push(h('form', {
        class: 'emoji-free', onsubmit: e => {
          e.preventDefault();
          const v = inp.value.trim();
          if (!v) return;
          this.togglePicker(false); this.pickBtn.focus(); this.react(v);
        },
      }, h('label', { for: pid + '-free' }, t('react.other')), inp, h('button', { type: 'submit', class: 'btn secondary small' }, t('react.send'))));
    }
    if (mine) parts.push(h('button', { type: 'button', class: 'btn ghost small', onclick: () => { this.togglePicker(false); this.pickBtn.focus(); this.unreact(); } }, t('react.remove')));
    this.pickerEl = h('div', { class: 'picker', id: pid, onkeydown: e => { if (e.key === 'Escape') { this.togglePicker(false); this.pickBtn.focus(); } } }, parts);
    this.pickBtn.setAttribute('aria-expanded', 'true');
    this.pickBtn.setAttribute('aria-controls', pid);
    this.reactRow.after(this.pickerEl);
    this.pickerEl.querySelector('button')?.focus();
  }

  async react(emoji) {
    const ch = this.ctx.channel();
    try {
      const r = await api('PUT', paths.update(ch.id, this.u.id) + '/reaction', { emoji });
      await this.afterWrite(r);
    } catch (e) {
      toast(e.status === 403 ? (ch.reactions === 'none' ? t('react.none') : t('react.refused')) : errorText(e), 'error');
    }
  }

  async unreact() {
    const ch = this.ctx.channel();
    try {
      const r = await api('DELETE', paths.update(ch.id, this.u.id) + '/reaction');
      await this.afterWrite(r);
    } catch (e) { toast(errorText(e), 'error'); }
  }

  // Writes answer with the update (our viewer state included); should a
  // server answer 204 instead, read it back.
  async afterWrite(r) {
    if (!r || !r.id) r = await api('GET', paths.update(this.ctx.channel().id, this.u.id));
    this.merge(r, { viewer: true });
    if (this.pollEl) this.syncPollInputs();
  }

  buildPoll() {
    const p = this.u.poll;
    const name = 'poll-' + this.u.id;
    const type = p.multiple ? 'checkbox' : 'radio';
    this.pollRows = p.options.map((o, i) => {
      const input = h('input', { type, name, value: String(i), id: `${name}-${i}` });
      const bar = h('span', { class: 'poll-bar', 'aria-hidden': 'true' });
      const count = h('span', { class: 'poll-count' });
      const row = h('li', { class: 'poll-option' },
        h('label', { for: `${name}-${i}` }, input, h('span', { class: 'poll-text' }, o.text), count), bar);
      return { input, bar, count, row };
    });
    this.voteBtn = h('button', { type: 'submit', class: 'btn primary small' }, t('poll.vote'));
    this.retractBtn = h('button', { type: 'button', class: 'btn ghost small', onclick: () => this.retract() }, t('poll.retract'));
    this.votersEl = h('span', { class: 'muted poll-voters' });
    const form = h('form', { class: 'poll-form', onsubmit: e => { e.preventDefault(); this.vote(); } },
      h('fieldset', null,
        h('legend', { class: 'poll-question' }, icon('poll'), ' ', p.question),
        h('p', { class: 'muted small-text' }, p.multiple ? t('poll.multiple') : t('poll.single')),
        h('ul', { class: 'poll-options' }, this.pollRows.map(r => r.row))),
      h('div', { class: 'poll-actions' }, this.votersEl, this.voteBtn, this.retractBtn));
    clear(this.pollEl);
    this.pollEl.appendChild(form);
    this.syncPollInputs();
    this.renderPollCounts();
  }

  syncPollInputs() {
    const votes = this.u.viewer?.votes || [];
    const can = this.ctx.canInteract();
    this.pollRows.forEach((r, i) => {
      r.input.checked = votes.includes(i);
      r.input.disabled = !can;
      r.row.classList.toggle('chosen', votes.includes(i));
    });
    this.voteBtn.hidden = !can;
    this.voteBtn.textContent = votes.length ? t('poll.change') : t('poll.vote');
    this.retractBtn.hidden = !can || !votes.length;
  }

  renderPollCounts() {
    const p = this.u.poll;
    const voters = p.voters || 0;
    p.options.forEach((o, i) => {
      const r = this.pollRows[i];
      if (!r) return;
      const pct = voters ? Math.round((o.votes || 0) * 100 / voters) : 0;
      r.count.textContent = `${fmtNumber(o.votes || 0)} · ${pct} %`;
      r.count.dataset.votes = String(o.votes || 0);
      r.bar.style.width = pct + '%';
    });
    this.votersEl.textContent = tn('poll.voters', voters);
    this.votersEl.dataset.voters = String(voters);
  }

  async vote() {
    const options = this.pollRows.map((r, i) => (r.input.checked ? i : -1)).filter(i => i >= 0);
    if (!options.length) { toast(t('poll.choose')); return; }
    const ch = this.ctx.channel();
    try {
      const r = await busy(this.voteBtn, api('PUT', paths.update(ch.id, this.u.id) + '/vote', { options }));
      await this.afterWrite(r);
      toast(t('poll.voted'));
    } catch (e) { toast(errorText(e), 'error'); }
  }

  async retract() {
    const ch = this.ctx.channel();
    try {
      const r = await busy(this.retractBtn, api('DELETE', paths.update(ch.id, this.u.id) + '/vote'));
      await this.afterWrite(r);
    } catch (e) { toast(errorText(e), 'error'); }
  }

  startEdit() {
    if (this.editing) return;
    this.editing = true;
    const ta = h('textarea', { class: 'edit-text', rows: 4, maxlength: 4096, 'aria-label': t('update.edit.label') });
    ta.value = this.u.text;
    const save = h('button', { type: 'submit', class: 'btn primary small' }, t('common.save'));
    // Alt texts of the update's images, video and audio.
    const alts = (this.u.media || []).filter(m => m.type !== 'document').map((m, i) => {
      const a = h('textarea', { class: 'alt-text', rows: 2, maxlength: 1500, 'aria-label': t('media.alt', { name: String(i + 1) }) });
      a.value = m.alt || '';
      return { id: m.id, old: m.alt || '', el: a };
    });
    const form = h('form', { class: 'edit-form' }, ta, alts.map(a => a.el), h('div', { class: 'row end' },
      h('button', { type: 'button', class: 'btn ghost small', onclick: () => done() }, t('common.cancel')), save));
    const done = () => { form.remove(); this.textEl.hidden = false; this.editing = false; };
    form.addEventListener('submit', async e => {
      e.preventDefault();
      try {
        const body = {};
        if (ta.value !== this.u.text) body.text = ta.value;
        const changed = alts.filter(a => a.el.value.trim() !== a.old).map(a => ({ id: a.id, alt: a.el.value.trim() }));
        if (changed.length) body.media = changed;
        if (!('text' in body) && !body.media) { done(); return; }
        const r = await busy(save, api('PATCH', paths.update(this.ctx.channel().id, this.u.id), body));
        if (r && r.id) this.merge(r, { viewer: true });
        done();
        toast(t('update.saved'));
      } catch (ex) { toast(errorText(ex), 'error'); }
    });
    ta.addEventListener('keydown', e => { if (e.key === 'Escape') done(); });
    this.textEl.hidden = true;
    this.textEl.after(form);
    ta.focus();
  }

  async remove() {
    if (!await confirmDialog(t('update.delete.confirm'), t('update.delete'))) return;
    try {
      await api('DELETE', paths.update(this.ctx.channel().id, this.u.id));
      this.ctx.onDeleted(this.u.id);
      toast(t('update.deleted'));
    } catch (e) { toast(errorText(e), 'error'); }
  }
}
