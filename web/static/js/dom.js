// DOM helpers. Every piece of user text enters the page as a text node or an
// attribute value set through the DOM, never parsed as HTML, so a channel
// name or an update can't inject markup or script.

/**
 * h builds an element: h('a', {href: '/x', class: 'btn'}, 'text', child).
 * Attributes starting with "on" are event listeners; null/false are skipped;
 * children may be strings, numbers, nodes, arrays or null.
 */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  if (attrs) {
    for (const [k, v] of Object.entries(attrs)) {
      if (v === null || v === undefined || v === false) continue;
      if (k.startsWith('on') && typeof v === 'function') {
        el.addEventListener(k.slice(2).toLowerCase(), v);
      } else if (k === 'class') {
        el.className = v;
      } else if (k === 'dataset') {
        Object.assign(el.dataset, v);
      } else if (k === 'value' || k === 'checked' || k === 'selected' || k === 'disabled' && typeof v === 'boolean') {
        el[k] = v;
      } else {
        el.setAttribute(k, v === true ? '' : String(v));
      }
    }
  }
  append(el, children);
  return el;
}

/** append adds children (strings, nodes, arrays, null) to el. */
export function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else if (c instanceof Node) el.appendChild(c);
    else el.appendChild(document.createTextNode(String(c)));
  }
  return el;
}

/** clear removes every child of el. */
export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

// Links: http(s) URLs and bare www. hosts. Trailing punctuation that usually
// ends a sentence is left out of the link.
const urlRe = /\b(?:https?:\/\/|www\.)[^\s<>"]+/gi;

/**
 * linkify returns nodes for text with its URLs as safe links: only http and
 * https targets, opened without giving the target page a handle on ours.
 */
export function linkify(text) {
  const out = [];
  let last = 0;
  for (const m of text.matchAll(urlRe)) {
    let url = m[0];
    const trail = url.match(/[.,;:!?)\]}'»]+$/);
    if (trail) {
      // Keep a closing parenthesis that has a matching opening one in the URL.
      let t = trail[0];
      if (t.startsWith(')') && url.slice(0, -t.length).includes('(')) t = t.slice(1);
      url = url.slice(0, url.length - t.length);
    }
    if (!url) continue;
    const start = m.index;
    if (start > last) out.push(document.createTextNode(text.slice(last, start)));
    const href = /^https?:\/\//i.test(url) ? url : 'https://' + url;
    let ok = false;
    try {
      const u = new URL(href);
      ok = u.protocol === 'http:' || u.protocol === 'https:';
    } catch { ok = false; }
    if (ok) {
      out.push(h('a', { href, target: '_blank', rel: 'noopener noreferrer nofollow ugc' }, url));
    } else {
      out.push(document.createTextNode(url));
    }
    last = start + url.length;
  }
  if (last < text.length) out.push(document.createTextNode(text.slice(last)));
  return out;
}

/** debounce delays fn until wait ms pass without a new call. */
export function debounce(fn, wait) {
  let timer = 0;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), wait);
  };
}

/**
 * whenNear calls fn each time el (a "load more" button) comes within a
 * screen of the viewport, so lists grow as the reader scrolls; the button
 * stays for keyboard users. Returns a function that stops watching.
 */
export function whenNear(el, fn) {
  if (!('IntersectionObserver' in window)) return () => {};
  const io = new IntersectionObserver(entries => {
    if (entries.some(e => e.isIntersecting) && !el.hidden && !el.disabled) fn();
  }, { rootMargin: '0px 0px 600px 0px' });
  io.observe(el);
  return () => io.disconnect();
}

const palette = ['#0f766e', '#7c3aed', '#b45309', '#be123c', '#1d4ed8', '#047857', '#a21caf', '#c2410c', '#0369a1', '#4d7c0f'];

/** avatar draws a channel's initials on a colour derived from its id. */
export function avatar(ch, size = 'md') {
  const name = (ch.name || '?').trim();
  const words = name.split(/\s+/u).filter(Boolean);
  let initials = words.slice(0, 2).map(w => Array.from(w)[0]).join('');
  if (!initials) initials = '?';
  let hash = 0;
  for (const c of String(ch.id || name)) hash = (hash * 31 + c.codePointAt(0)) >>> 0;
  if (ch.avatar_url) {
    const small = size === 'xl' || size === 'lg' ? ch.avatar_url : ch.avatar_url.replace(/\/original$/, '/128');
    return h('img', { class: `avatar avatar-${size} avatar-img`, src: small, alt: '', 'aria-hidden': 'true' });
  }
  const el = h('span', { class: `avatar avatar-${size}`, 'aria-hidden': 'true' }, initials.toUpperCase());
  // CSSOM writes are allowed by the CSP (style-src 'self'); style="" attributes are not.
  el.style.backgroundColor = palette[hash % palette.length];
  return el;
}

/** icon returns a small inline SVG from the sprite-less set below. */
export function icon(name) {
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('class', 'icon');
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('focusable', 'false');
  const p = document.createElementNS(ns, 'path');
  p.setAttribute('d', icons[name] || '');
  svg.appendChild(p);
  return svg;
}

const icons = {
  flag: 'M5 3h2v18H5zM8 4h11l-3 4.5 3 4.5H8z',
  check: 'M9 16.2 4.8 12l-1.4 1.4L9 19 21 7l-1.4-1.4z',
  verified: 'M12 2 9.5 4.5 6 4l-.5 3.5L2 9.5 4 12l-2 2.5 3.5 2L6 20l3.5-.5L12 22l2.5-2.5L18 20l.5-3.5 3.5-2L20 12l2-2.5-3.5-2L18 4l-3.5.5zm-1.5 14L6.5 12l1.4-1.4 2.6 2.6 5.6-5.6 1.4 1.4z',
  bell: 'M12 22a2 2 0 0 0 2-2h-4a2 2 0 0 0 2 2zm6-6V11a6 6 0 0 0-5-5.9V4a1 1 0 0 0-2 0v1.1A6 6 0 0 0 6 11v5l-2 2v1h16v-1z',
  belloff: 'M20 18.7 5.3 4 4 5.3l2.3 2.3A6 6 0 0 0 6 11v5l-2 2v1h13.7l2 2 1.3-1.3zM12 22a2 2 0 0 0 2-2h-4a2 2 0 0 0 2 2zm6-7.2V11a6 6 0 0 0-5-5.9V4a1 1 0 0 0-2 0v1.1c-.6.1-1.2.4-1.7.7z',
  search: 'M10 3.5a6.5 6.5 0 0 1 5.2 10.4l5.4 5.4-1.4 1.4-5.4-5.4A6.5 6.5 0 1 1 10 3.5zm0 2a4.5 4.5 0 1 0 0 9 4.5 4.5 0 0 0 0-9z',
  plus: 'M19 13h-6v6h-2v-6H5v-2h6V5h2v6h6z',
  smile: 'M12 2a10 10 0 1 0 0 20 10 10 0 0 0 0-20zm0 18a8 8 0 1 1 0-16 8 8 0 0 1 0 16zm-3.5-9A1.5 1.5 0 1 0 8.5 8a1.5 1.5 0 0 0 0 3zm7 0A1.5 1.5 0 1 0 15.5 8a1.5 1.5 0 0 0 0 3zM12 17.5c2.3 0 4.3-1.5 5.1-3.5H6.9c.8 2 2.8 3.5 5.1 3.5z',
  users: 'M16 11a3 3 0 1 0 0-6 3 3 0 0 0 0 6zm-8 0a3 3 0 1 0 0-6 3 3 0 0 0 0 6zm0 2c-2.3 0-7 1.2-7 3.5V19h14v-2.5C15 14.2 10.3 13 8 13zm8 0h-1c1.2.9 2 2 2 3.5V19h6v-2.5c0-2.3-4.7-3.5-7-3.5z',
  gear: 'M19.4 13a7.5 7.5 0 0 0 0-2l2.1-1.6-2-3.5-2.5 1a7.3 7.3 0 0 0-1.7-1L15 3h-4l-.4 2.9a7.3 7.3 0 0 0-1.7 1l-2.5-1-2 3.5L6.6 11a7.5 7.5 0 0 0 0 2l-2.1 1.6 2 3.5 2.5-1c.5.4 1.1.7 1.7 1L11 21h4l.4-2.9c.6-.3 1.2-.6 1.7-1l2.5 1 2-3.5zM13 15.5a3.5 3.5 0 1 1 0-7 3.5 3.5 0 0 1 0 7z',
  edit: 'M3 17.2V21h3.8L17.8 9.9l-3.7-3.7zM20.7 7a1 1 0 0 0 0-1.4l-2.3-2.3a1 1 0 0 0-1.4 0l-1.8 1.8 3.7 3.7z',
  trash: 'M6 19a2 2 0 0 0 2 2h8a2 2 0 0 0 2-2V7H6zM19 4h-3.5l-1-1h-5l-1 1H5v2h14z',
  link: 'M3.9 12a3.1 3.1 0 0 1 3.1-3.1h4V7H7a5 5 0 0 0 0 10h4v-1.9H7A3.1 3.1 0 0 1 3.9 12zM8 13h8v-2H8zm9-6h-4v1.9h4a3.1 3.1 0 0 1 0 6.2h-4V17h4a5 5 0 0 0 0-10z',
  poll: 'M5 9h3v11H5zm5.5-5h3v16h-3zM16 13h3v7h-3z',
  refresh: 'M17.7 6.3A8 8 0 1 0 19.7 14h-2.1a6 6 0 1 1-1.4-6.2L13 11h7V4z',
};
