// View reports: updates that were at least half on screen for a second are
// reported to the server in batches (POST /api/v1/views), each once per page
// load. The server counts each account once per update and keeps no record
// of who viewed what; this device keeps nothing either.
import { api } from './api.js';
import { lang } from './i18n.js';

const maxBatch = 100;
const dwellMs = 1000;
const flushMs = 5000;

/** viewReporter returns {watch(el, id), stop()} for one page. */
export function viewReporter() {
  const reported = new Set();
  const pending = new Set();
  const timers = new Map(); // element -> dwell timer
  let flushTimer = 0;

  async function flush() {
    flushTimer = 0;
    while (pending.size) {
      const ids = [...pending].slice(0, maxBatch);
      ids.forEach(id => pending.delete(id));
      try {
        await api('POST', '/views', { updates: ids, lang });
      } catch (e) {
        // A rate limit or a network error loses a view, not the page.
        if (e.status === 429 || e.status === 0) break;
      }
    }
  }

  function schedule() {
    if (!flushTimer) flushTimer = setTimeout(flush, flushMs);
  }

  const io = typeof IntersectionObserver === 'function' ? new IntersectionObserver(entries => {
    for (const en of entries) {
      const id = en.target.dataset.id;
      if (!id || reported.has(id)) continue;
      if (en.isIntersecting && document.visibilityState === 'visible') {
        if (!timers.has(en.target)) {
          timers.set(en.target, setTimeout(() => {
            timers.delete(en.target);
            reported.add(id);
            pending.add(id);
            io.unobserve(en.target);
            schedule();
          }, dwellMs));
        }
      } else if (timers.has(en.target)) {
        clearTimeout(timers.get(en.target));
        timers.delete(en.target);
      }
    }
  }, { threshold: 0.5 }) : null;

  const onHide = () => { if (document.visibilityState === 'hidden' && pending.size) flush(); };
  document.addEventListener('visibilitychange', onHide);

  return {
    watch(el) { if (io && !reported.has(el.dataset.id)) io.observe(el); },
    stop() {
      io?.disconnect();
      for (const tm of timers.values()) clearTimeout(tm);
      timers.clear();
      document.removeEventListener('visibilitychange', onHide);
      clearTimeout(flushTimer);
      if (pending.size) flush();
    },
  };
}
