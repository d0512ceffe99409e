// Shared UI pieces: toasts, confirmation dialog, navigation, form errors.
import { h, clear } from './dom.js';
import { t } from './i18n.js';

/** toast shows a short message in the polite live region. */
export function toast(msg, kind = 'info') {
  const box = document.getElementById('toasts');
  const el = h('div', { class: `toast toast-${kind}` }, msg);
  box.appendChild(el);
  setTimeout(() => el.remove(), 5000);
}

/** confirmDialog asks a yes/no question in a modal <dialog>. */
export function confirmDialog(text, okLabel) {
  const dlg = document.getElementById('confirm');
  document.getElementById('confirm-text').textContent = text;
  document.getElementById('confirm-ok').textContent = okLabel || t('common.ok');
  document.getElementById('confirm-cancel').textContent = t('common.cancel');
  return new Promise(resolve => {
    dlg.addEventListener('close', () => resolve(dlg.returnValue === 'ok'), { once: true });
    dlg.returnValue = '';
    dlg.showModal();
    document.getElementById('confirm-cancel').focus();
  });
}

let navigateFn = () => {};
export function setNavigate(fn) { navigateFn = fn; }

/** navigate goes to an in-app path without reloading the page. */
export function navigate(path, opts) { navigateFn(path, opts); }

/** errorText turns an ApiError into a message for the person. */
export function errorText(err) {
  if (!err) return '';
  if (err.status === 0) return t('error.network');
  if (err.status === 429) return t('error.rate', { s: err.retryAfter || 1 });
  if (err.status === 401) return t('error.signin');
  if (err.status >= 500) return t('error.server');
  return err.message || t('error.server');
}

/** formError shows err in the form's alert slot (or a toast). */
export function showError(slot, err) {
  const msg = typeof err === 'string' ? err : errorText(err);
  if (!slot) { toast(msg, 'error'); return; }
  clear(slot);
  slot.hidden = false;
  slot.appendChild(document.createTextNode(msg));
}

export function clearError(slot) {
  if (!slot) return;
  clear(slot);
  slot.hidden = true;
}

/** errorSlot is an alert region for a form's error. */
export function errorSlot() {
  return h('p', { class: 'form-error', role: 'alert', hidden: true });
}

/** busy disables a button while promise runs. */
export async function busy(btn, promise) {
  btn.disabled = true;
  btn.setAttribute('aria-busy', 'true');
  try { return await promise; } finally {
    btn.disabled = false;
    btn.removeAttribute('aria-busy');
  }
}

/** field builds a labelled input: label, control, optional hint. */
export function field(label, control, hint) {
  const id = control.id || 'f-' + Math.random().toString(36).slice(2, 9);
  control.id = id;
  const hintEl = hint ? h('small', { class: 'hint', id: id + '-hint' }, hint) : null;
  if (hintEl) control.setAttribute('aria-describedby', hintEl.id);
  return h('div', { class: 'field' }, h('label', { for: id }, label), control, hintEl);
}

/** emptyState is a friendly placeholder for empty lists. */
export function emptyState(title, text, action) {
  return h('div', { class: 'empty' }, h('p', { class: 'empty-title' }, title), text ? h('p', null, text) : null, action || null);
}

/** emptyPage is a whole page that only says something went nowhere; its
 * title is the page's h1. */
export function emptyPage(title, text, action) {
  document.title = `${title} · Herald`;
  return h('div', { class: 'empty' }, h('h1', { class: 'empty-title' }, title), text ? h('p', null, text) : null, action || null);
}

/** pageTitle sets the document title and returns an h1. */
export function pageTitle(text, cls) {
  document.title = text ? `${text} · Herald` : 'Herald';
  return h('h1', { class: cls || 'page-title' }, text);
}
