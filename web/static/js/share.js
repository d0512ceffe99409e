// Sharing an update: its permalink (a page the server renders for anyone,
// scripts or not), through the Web Share sheet or the clipboard.
import { h, icon } from './dom.js';
import { t } from './i18n.js';
import { toast } from './ui.js';

// permalink is an update's public URL.
export function permalink(u) {
  return location.origin + '/channels/' + encodeURIComponent(u.channel_id) + '/updates/' + u.seq;
}

// shareButton shares an update's permalink: the Web Share sheet where the
// browser has one, else the clipboard.
export function shareButton(u) {
  return h('button', {
    type: 'button', class: 'btn icon-btn share', 'aria-label': t('share.update'), title: t('share.update'),
    onclick: async () => {
      const url = permalink(u);
      if (navigator.share) {
        try { await navigator.share({ url }); return; } catch (e) { if (e.name === 'AbortError') return; }
      }
      try {
        await navigator.clipboard.writeText(url);
        toast(t('common.copied'));
      } catch {
        toast(url);
      }
    },
  }, icon('link'));
}
