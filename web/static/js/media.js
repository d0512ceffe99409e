// Media in the web app: the composer's attachments (button, drag-and-drop
// or paste; each file uploads at once with a progress bar, shows a preview
// and an alt-text field, and can be removed before posting) and the feed's
// rendering of an update's media (image albums with a blurred placeholder
// colour, video and audio players, document cards).
import { h, clear, icon, avatar } from './dom.js';
import { t, fmtNumber, lang } from './i18n.js';

const maxItems = 10;
const maxAlt = 1500;

/** upload sends one file to the channel with progress; resolves to the media. */
function upload(channelID, file, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', `/api/v1/channels/${encodeURIComponent(channelID)}/media?name=${encodeURIComponent(file.name || '')}`);
    xhr.setRequestHeader('Accept', 'application/json, application/problem+json');
    xhr.setRequestHeader('Accept-Language', lang);
    xhr.setRequestHeader('Content-Type', file.type || 'application/octet-stream');
    xhr.upload.onprogress = e => { if (e.lengthComputable) onProgress(e.loaded / e.total); };
    xhr.onload = () => {
      let data = null;
      try { data = JSON.parse(xhr.responseText); } catch { data = null; }
      if (xhr.status === 201 && data) resolve(data);
      else reject(new Error(data?.detail || data?.title || `HTTP ${xhr.status}`));
    };
    xhr.onerror = () => reject(new Error(t('media.failed')));
    xhr.send(file);
  });
}

/**
 * attachments returns the composer's media part for a channel:
 * {el, button, refs() -> [{id, alt}], pending() -> bool, reset(), attachTo(form)}.
 */
export function attachments(channelID, onError) {
  const input = h('input', { type: 'file', multiple: true, hidden: true, id: 'compose-file',
    accept: 'image/*,video/*,audio/*,application/pdf,*/*' });
  const button = h('button', { type: 'button', class: 'btn ghost small', id: 'compose-attach' }, icon('plus'), ' ', t('media.attach'));
  const list = h('ul', { class: 'attachments', id: 'compose-attachments', 'aria-live': 'polite' });
  const items = [];

  function add(file) {
    if (items.length >= maxItems) { onError(t('media.toomany', { n: maxItems })); return; }
    const bar = h('progress', { max: 1, value: 0, 'aria-label': t('media.uploading', { name: file.name }) });
    const alt = h('textarea', { class: 'alt-text', rows: 2, maxlength: maxAlt, placeholder: t('media.alt.placeholder'), 'aria-label': t('media.alt', { name: file.name }) });
    const rm = h('button', { type: 'button', class: 'btn icon-btn', 'aria-label': t('media.remove', { name: file.name }), title: t('media.remove', { name: file.name }) }, '×');
    const preview = h('div', { class: 'attachment-preview' });
    let img = null;
    if (file.type.startsWith('image/')) {
      const url = URL.createObjectURL(file);
      img = h('img', { src: url, alt: '', onload: () => URL.revokeObjectURL(url), onerror: () => URL.revokeObjectURL(url) });
      preview.appendChild(img);
    } else {
      preview.appendChild(h('span', { class: 'attachment-name' }, file.name || t('media.file')));
    }
    const li = h('li', { class: 'attachment' }, preview, h('div', { class: 'attachment-body' }, bar, alt), rm);
    const item = { li, alt, media: null, done: false };
    items.push(item);
    list.appendChild(li);
    rm.addEventListener('click', () => { items.splice(items.indexOf(item), 1); li.remove(); });
    upload(channelID, file, p => { bar.value = p; })
      .then(m => {
        item.media = m; item.done = true; bar.value = 1; bar.hidden = true;
        li.dataset.id = m.id;
        if (m.type === 'document') alt.hidden = true;
        // A browser that can't show the file itself (HEIC, AVIF) shows the server's rendition.
        if (img && !img.naturalWidth && m.thumbnail_url) img.src = m.thumbnail_url;
      })
      .catch(e => { item.done = true; items.splice(items.indexOf(item), 1); li.remove(); onError(e.message); });
  }
  function addFiles(files) { for (const f of files) add(f); }

  button.addEventListener('click', () => input.click());
  input.addEventListener('change', () => { addFiles(input.files); input.value = ''; });

  return {
    el: h('div', { class: 'attach-box' }, input, list),
    button,
    refs: () => items.filter(i => i.media).map(i => ({ id: i.media.id, alt: i.alt.value.trim() })),
    pending: () => items.some(i => !i.done),
    reset() { items.length = 0; clear(list); },
    attachTo(form) {
      form.addEventListener('dragover', e => { if (e.dataTransfer?.types?.includes('Files')) { e.preventDefault(); form.classList.add('dropping'); } });
      form.addEventListener('dragleave', () => form.classList.remove('dropping'));
      form.addEventListener('drop', e => {
        if (!e.dataTransfer?.files?.length) return;
        e.preventDefault();
        form.classList.remove('dropping');
        addFiles(e.dataTransfer.files);
      });
      form.addEventListener('paste', e => {
        const files = [...(e.clipboardData?.files || [])];
        if (files.length) { e.preventDefault(); addFiles(files); }
      });
    },
  };
}

function fmtSize(n) {
  if (n >= 1 << 20) return t('media.mb', { n: fmtNumber(Math.round(n / (1 << 20) * 10) / 10) });
  return t('media.kb', { n: fmtNumber(Math.max(1, Math.round(n / 1024))) });
}

// The average colour a blurhash starts with (its DC component), shown
// until the image loads.
const b83 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz#$%*+,-.:;=?@[]^_{|}~';
function placeholderColour(hash) {
  if (!hash || hash.length < 6) return '';
  let v = 0;
  for (const c of hash.slice(2, 6)) v = v * 83 + b83.indexOf(c);
  return `rgb(${v >> 16}, ${(v >> 8) & 255}, ${v & 255})`;
}

/**
 * openLightbox shows an album's images large in a modal <dialog>, starting
 * at index i: Escape (or the close button) closes it, the arrow keys and
 * the previous/next buttons move within the album. Focus returns to the
 * image that opened it.
 */
function openLightbox(images, i, opener) {
  const img = h('img', { class: 'lightbox-img', id: 'lightbox-img', alt: '' });
  const caption = h('p', { class: 'lightbox-caption', id: 'lightbox-caption' });
  const position = h('p', { class: 'lightbox-position', id: 'lightbox-position', 'aria-live': 'polite' });
  const close = h('button', { type: 'button', class: 'btn ghost small lightbox-close', id: 'lightbox-close', 'aria-label': t('media.close') }, '×');
  const prev = h('button', { type: 'button', class: 'btn secondary small', id: 'lightbox-prev', 'aria-label': t('media.prev') }, '‹');
  const next = h('button', { type: 'button', class: 'btn secondary small', id: 'lightbox-next', 'aria-label': t('media.next') }, '›');
  const many = images.length > 1;
  const dlg = h('dialog', { class: 'lightbox', id: 'lightbox', 'aria-label': t('media.viewer') },
    close, h('figure', { class: 'lightbox-figure' }, img, caption),
    many ? h('div', { class: 'lightbox-nav' }, prev, position, next) : null);
  function show(n) {
    i = (n + images.length) % images.length;
    const m = images[i];
    img.src = m.url;
    img.alt = m.alt || '';
    caption.textContent = m.alt || '';
    caption.hidden = !m.alt;
    position.textContent = t('media.position', { i: i + 1, n: images.length });
    img.dataset.index = String(i);
  }
  prev.addEventListener('click', () => show(i - 1));
  next.addEventListener('click', () => show(i + 1));
  close.addEventListener('click', () => dlg.close());
  dlg.addEventListener('keydown', e => {
    if (!many) return;
    if (e.key === 'ArrowLeft') { e.preventDefault(); show(i - 1); }
    if (e.key === 'ArrowRight') { e.preventDefault(); show(i + 1); }
  });
  // A click on the backdrop (outside the dialog's box) closes it too.
  dlg.addEventListener('click', e => { if (e.target === dlg) dlg.close(); });
  dlg.addEventListener('close', () => { dlg.remove(); opener?.focus(); }, { once: true });
  show(i);
  document.body.appendChild(dlg);
  dlg.showModal();
  close.focus();
}

/** renderMedia returns the element showing an update's media, or null. */
export function renderMedia(list) {
  if (!list || !list.length) return null;
  const images = list.filter(m => m.type === 'image');
  const box = h('div', { class: 'update-media' });
  if (images.length) {
    const grid = h('div', { class: 'album n' + Math.min(images.length, 4) });
    for (const m of images) {
      const src = images.length > 1 ? m.thumbnail_url : m.mime === 'image/gif' ? m.url : m.url.replace(/\/original$/, '/1280');
      const img = h('img', { src,
        alt: m.alt || '', loading: 'lazy', width: m.width || undefined, height: m.height || undefined });
      if (m.state !== 'ready') img.removeAttribute('src');
      const a = h('a', { href: m.url, target: '_blank', rel: 'noopener', class: 'album-item', 'aria-label': m.alt || t('media.image') }, img);
      a.style.backgroundColor = placeholderColour(m.blurhash); // CSSOM: allowed by the CSP
      const index = grid.childElementCount;
      a.addEventListener('click', e => {
        // A plain click opens the viewer; a modified one keeps the link's own behaviour.
        if (e.button !== 0 || e.ctrlKey || e.metaKey || e.shiftKey || e.altKey) return;
        const ready = images.filter(x => x.state === 'ready');
        const at = ready.indexOf(m);
        if (at < 0) return;
        e.preventDefault();
        openLightbox(ready, at, a);
      });
      grid.appendChild(a);
    }
    box.appendChild(grid);
  }
  for (const m of list) {
    if (m.type === 'image') continue;
    if (m.state === 'processing') {
      box.appendChild(h('p', { class: 'media-processing' }, t('media.processing')));
      continue;
    }
    if (m.state !== 'ready') {
      box.appendChild(h('p', { class: 'media-processing' }, t('media.unavailable')));
      continue;
    }
    if (m.type === 'video') {
      box.appendChild(h('video', { src: m.url, poster: m.thumbnail_url || undefined, controls: true, preload: 'metadata', 'aria-label': m.alt || t('media.video') }));
    } else if (m.type === 'audio') {
      box.appendChild(h('audio', { src: m.url, controls: true, preload: 'metadata', 'aria-label': m.alt || t('media.audio') }));
    } else {
      box.appendChild(h('a', { class: 'document-card', href: m.url, download: m.name || '' },
        h('span', { class: 'document-name' }, m.name || t('media.file')),
        h('span', { class: 'document-size' }, fmtSize(m.size))));
    }
  }
  return box;
}

/** avatarEditor is the settings card that changes or removes a channel's picture. */
export function avatarEditor(ch, onChange) {
  const shown = h('div', { class: 'avatar-current' });
  const input = h('input', { type: 'file', accept: 'image/*', hidden: true, id: 'avatar-file' });
  const change = h('button', { type: 'button', class: 'btn secondary small', id: 'avatar-change' }, t('avatar.change'));
  const remove = h('button', { type: 'button', class: 'btn ghost small danger-text', id: 'avatar-remove' }, t('avatar.remove'));
  const bar = h('progress', { max: 1, value: 0, hidden: true, 'aria-label': t('avatar.uploading') });
  const err = h('p', { class: 'form-error', role: 'alert', hidden: true });
  function render() {
    clear(shown);
    shown.appendChild(avatar(ch, 'xl'));
    remove.hidden = !ch.avatar_url;
  }
  function fail(msg) { err.textContent = msg; err.hidden = false; }
  change.addEventListener('click', () => input.click());
  input.addEventListener('change', () => {
    const file = input.files[0];
    input.value = '';
    if (!file) return;
    err.hidden = true;
    bar.hidden = false;
    const xhr = new XMLHttpRequest();
    xhr.open('PUT', `/api/v1/channels/${encodeURIComponent(ch.id)}/avatar`);
    xhr.setRequestHeader('Accept', 'application/json, application/problem+json');
    xhr.setRequestHeader('Accept-Language', lang);
    xhr.upload.onprogress = e => { if (e.lengthComputable) bar.value = e.loaded / e.total; };
    xhr.onload = () => {
      bar.hidden = true;
      let data = null;
      try { data = JSON.parse(xhr.responseText); } catch { data = null; }
      if (xhr.status === 200 && data) { ch = data; render(); onChange(ch); } else fail(data?.detail || t('media.failed'));
    };
    xhr.onerror = () => { bar.hidden = true; fail(t('media.failed')); };
    xhr.send(file);
  });
  remove.addEventListener('click', async () => {
    const res = await fetch(`/api/v1/channels/${encodeURIComponent(ch.id)}/avatar`, { method: 'DELETE', credentials: 'same-origin', headers: { Accept: 'application/json' } });
    if (res.ok) { ch = await res.json(); render(); onChange(ch); } else fail(t('media.failed'));
  });
  render();
  return h('section', { class: 'card', 'aria-labelledby': 'avatar-title' },
    h('h2', { class: 'section-title', id: 'avatar-title' }, t('avatar.title')), err,
    h('div', { class: 'row' }, shown, h('div', { class: 'stack' }, h('div', { class: 'row' }, change, remove), bar, h('p', { class: 'hint' }, t('avatar.hint')))),
    input);
}
