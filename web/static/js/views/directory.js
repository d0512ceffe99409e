// The directory: search as you type, category chips, country and language
// filters, sorts, and "load more" by cursor. The filters live in the URL so
// a search can be shared and survives the back button.
import { h, clear, debounce, icon, whenNear } from '../dom.js';
import { t } from '../i18n.js';
import { api, q, categories } from '../api.js';
import { channelCard, countrySelect, languageSelect } from '../components.js';
import { emptyState, errorText, pageTitle } from '../ui.js';

export async function directoryView(main, params, query) {
  const state = {
    q: query.get('q') || '',
    category: query.get('category') || '',
    country: query.get('country') || '',
    language: query.get('language') || '',
    sort: query.get('sort') || '',
  };
  let cats = [];
  try { cats = await categories(); } catch { /* chips missing, search still works */ }

  const search = h('input', {
    type: 'search', id: 'dir-search', name: 'q', value: state.q, autocomplete: 'off',
    placeholder: t('dir.search.placeholder'), 'aria-controls': 'dir-results',
  });
  const chips = h('div', { class: 'chips', role: 'group', 'aria-label': t('dir.category') });
  const chip = (id, label) => h('button', {
    type: 'button', class: 'chip', 'aria-pressed': String(state.category === id), dataset: { category: id },
    onclick: () => { state.category = id; for (const b of chips.children) b.setAttribute('aria-pressed', String(b.dataset.category === id)); refresh(); },
  }, label);
  chips.appendChild(chip('', t('dir.category.all')));
  for (const c of cats) chips.appendChild(chip(c.id, c.name));

  const country = countrySelect(state.country, t('dir.country.any'));
  country.id = 'dir-country';
  const language = languageSelect(state.language, t('dir.language.any'));
  language.id = 'dir-language';
  const sort = h('select', { id: 'dir-sort', name: 'sort' },
    h('option', { value: '' }, t('dir.sort.default')),
    h('option', { value: 'popular' }, t('dir.sort.popular')),
    h('option', { value: 'active' }, t('dir.sort.active')),
    h('option', { value: 'new' }, t('dir.sort.new')));
  sort.value = state.sort;

  const results = h('ul', { id: 'dir-results', class: 'card-grid', 'aria-live': 'polite', 'aria-busy': 'false' });
  const status = h('p', { class: 'muted dir-status', role: 'status' });
  const more = h('button', { type: 'button', class: 'btn secondary', id: 'dir-more', hidden: true }, t('dir.more'));

  main.appendChild(h('section', { class: 'hero' },
    pageTitle(t('dir.title')),
    h('p', { class: 'lead' }, t('dir.lead')),
    h('div', { class: 'search-box' },
      h('label', { for: 'dir-search', class: 'visually-hidden' }, t('dir.search.label')),
      icon('search'), search)));
  main.appendChild(h('section', { class: 'filters', 'aria-label': t('dir.filters') },
    chips,
    h('div', { class: 'filter-row' },
      h('div', { class: 'field inline' }, h('label', { for: 'dir-country' }, t('dir.country')), country),
      h('div', { class: 'field inline' }, h('label', { for: 'dir-language' }, t('dir.language')), language),
      h('div', { class: 'field inline' }, h('label', { for: 'dir-sort' }, t('dir.sort')), sort))));
  main.appendChild(h('section', { 'aria-label': t('dir.results') }, status, results, h('div', { class: 'center' }, more)));

  let cursor = '';
  let ctrl = null;
  let gen = 0;

  function syncURL() {
    history.replaceState(null, '', location.pathname + q(state));
  }

  async function load(append) {
    const my = ++gen;
    if (ctrl) ctrl.abort();
    ctrl = new AbortController();
    results.setAttribute('aria-busy', 'true');
    try {
      const r = await api('GET', '/directory' + q({ ...state, limit: 24, cursor: append ? cursor : '' }), undefined, { signal: ctrl.signal });
      if (my !== gen) return;
      if (!append) clear(results);
      for (const ch of r.channels || []) results.appendChild(channelCard(ch));
      cursor = r.next_cursor || '';
      more.hidden = !cursor;
      if (!results.children.length) {
        status.textContent = '';
        results.appendChild(h('li', { class: 'span-all' }, emptyState(t('dir.empty'), state.q ? t('dir.empty.q', { q: state.q }) : t('dir.empty.text'))));
      } else {
        status.textContent = state.q ? t('dir.results.for', { q: state.q }) : '';
      }
    } catch (e) {
      if (e.name === 'AbortError' || my !== gen) return;
      status.textContent = errorText(e);
    } finally {
      if (my === gen) results.setAttribute('aria-busy', 'false');
    }
  }

  function refresh() {
    syncURL();
    cursor = '';
    load(false);
  }

  // 250 ms: fast enough to feel live, slow enough not to query per keystroke.
  const typed = debounce(() => { state.q = search.value.trim(); refresh(); }, 250);
  search.addEventListener('input', typed);
  search.addEventListener('keydown', e => { if (e.key === 'Enter') { e.preventDefault(); state.q = search.value.trim(); refresh(); } });
  country.addEventListener('change', () => { state.country = country.value; refresh(); });
  language.addEventListener('change', () => { state.language = language.value; refresh(); });
  sort.addEventListener('change', () => { state.sort = sort.value; refresh(); });
  let loadingMore = false;
  const loadMore = async () => {
    if (loadingMore || !cursor) return;
    loadingMore = true;
    try { await load(true); } finally { loadingMore = false; }
  };
  more.addEventListener('click', loadMore);

  await load(false);
  const stopNear = whenNear(more, loadMore);
  return () => { gen++; stopNear(); if (ctrl) ctrl.abort(); };
}
