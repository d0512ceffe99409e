// The admin composer: text (up to 4,096 characters) and an optional poll of
// 2 to 12 options, single or multiple answers.
import { h, clear, icon } from './dom.js';
import { t, fmtNumber, fmtDate } from './i18n.js';
import { api, paths } from './api.js';
import { toast, errorSlot, showError, clearError, busy } from './ui.js';
import { attachments } from './media.js';
import { scheduleOption } from './schedule.js';

const maxText = 4096;
const maxOptions = 12;

export function composer(ch, onPosted, onScheduled = () => {}) {
  const sched = scheduleOption();
  const text = h('textarea', { id: 'compose-text', name: 'text', rows: 3, maxlength: maxText, placeholder: t('compose.placeholder') });
  const counter = h('span', { class: 'counter', id: 'compose-counter', 'aria-live': 'off' });
  const err = errorSlot();
  const pollToggle = h('button', { type: 'button', class: 'btn ghost small', id: 'compose-poll-toggle', 'aria-expanded': 'false', 'aria-controls': 'compose-poll' }, icon('poll'), ' ', t('compose.addpoll'));
  const question = h('input', { id: 'poll-question', name: 'question', maxlength: 255 });
  const multiple = h('input', { type: 'checkbox', id: 'poll-multiple', name: 'multiple' });
  const optionList = h('ol', { class: 'option-list' });
  const addOption = h('button', { type: 'button', class: 'btn ghost small', id: 'poll-add-option' }, icon('plus'), ' ', t('compose.addoption'));
  const pollBox = h('fieldset', { class: 'poll-editor', id: 'compose-poll', hidden: true },
    h('legend', null, t('compose.poll')),
    h('div', { class: 'field' }, h('label', { for: 'poll-question' }, t('compose.question')), question),
    optionList,
    h('div', { class: 'row between' }, addOption,
      h('label', { class: 'check', for: 'poll-multiple' }, multiple, ' ', t('compose.multiple'))));
  const submit = h('button', { type: 'submit', class: 'btn primary', id: 'compose-submit' }, t('compose.publish'));
  const att = attachments(ch.id, msg => showError(err, msg));

  function optionRow(value = '') {
    const n = optionList.children.length + 1;
    const inp = h('input', { class: 'poll-option-input', maxlength: 100, value, 'aria-label': t('compose.option', { n }) });
    const rm = h('button', { type: 'button', class: 'btn icon-btn', 'aria-label': t('compose.removeoption', { n }), title: t('compose.removeoption', { n }) }, '×');
    const li = h('li', null, inp, rm);
    rm.addEventListener('click', () => { li.remove(); relabel(); });
    optionList.appendChild(li);
    relabel();
    return inp;
  }
  function relabel() {
    [...optionList.children].forEach((li, i) => {
      li.querySelector('input').setAttribute('aria-label', t('compose.option', { n: i + 1 }));
      li.querySelector('input').placeholder = t('compose.option', { n: i + 1 });
      const rm = li.querySelector('button');
      rm.hidden = optionList.children.length <= 2;
      rm.setAttribute('aria-label', t('compose.removeoption', { n: i + 1 }));
    });
    addOption.hidden = optionList.children.length >= maxOptions;
  }
  function resetPoll() {
    clear(optionList);
    optionRow(); optionRow();
    question.value = '';
    multiple.checked = false;
  }
  resetPoll();
  addOption.addEventListener('click', () => optionRow().focus());
  pollToggle.addEventListener('click', () => {
    const open = pollBox.hidden;
    pollBox.hidden = !open;
    pollToggle.setAttribute('aria-expanded', String(open));
    pollToggle.lastChild.textContent = ' ' + (open ? t('compose.removepoll') : t('compose.addpoll'));
    if (open) question.focus();
  });

  function count() {
    const n = [...text.value.trim()].length;
    counter.textContent = `${fmtNumber(n)} / ${fmtNumber(maxText)}`;
    counter.classList.toggle('over', n > maxText);
  }
  text.addEventListener('input', count);
  count();

  const form = h('form', { class: 'card composer', id: 'composer', 'aria-labelledby': 'compose-title', novalidate: true },
    h('h2', { class: 'section-title', id: 'compose-title' }, t('compose.title')),
    err,
    h('div', { class: 'field' }, h('label', { for: 'compose-text', class: 'visually-hidden' }, t('compose.text')), text),
    att.el,
    pollBox,
    h('div', { class: 'row between composer-foot' }, h('div', { class: 'row' }, att.button, pollToggle, sched.el, counter), submit));
  att.attachTo(form);

  form.addEventListener('submit', async e => {
    e.preventDefault();
    clearError(err);
    const body = { text: text.value.trim() };
    if (!pollBox.hidden) {
      const options = [...optionList.querySelectorAll('input')].map(i => i.value.trim()).filter(Boolean);
      if (!question.value.trim() || options.length < 2) { showError(err, t('compose.poll.invalid')); return; }
      body.poll = { question: question.value.trim(), options, multiple: multiple.checked };
      // A poll may stand alone: its question is then the update's text.
      if (!body.text) body.text = body.poll.question;
    }
    if (att.pending()) { showError(err, t('media.wait')); return; }
    const media = att.refs();
    if (media.length) body.media = media;
    if (!body.text && !media.length) { showError(err, t('compose.empty')); text.focus(); return; }
    const at = sched.publishAt();
    if (at === null) { showError(err, t('schedule.invalid')); return; }
    if (at) body.publish_at = at;
    try {
      const u = await busy(submit, api('POST', paths.updates(ch.id), body));
      text.value = '';
      count();
      if (!pollBox.hidden) pollToggle.click();
      resetPoll();
      att.reset();
      if (at) {
        sched.reset();
        onScheduled(u);
        toast(t('schedule.scheduled', { when: fmtDate(u.publish_at) }));
        text.focus();
        return;
      }
      onPosted(u);
      toast(t('compose.posted'));
      text.focus();
    } catch (ex) { showError(err, ex); }
  });
  return form;
}
