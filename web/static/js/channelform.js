// The channel profile form, shared by "create" and "settings".
import { h } from './dom.js';
import { t } from './i18n.js';
import { categories } from './api.js';
import { countrySelect, languageSelect } from './components.js';
import { field } from './ui.js';

const categoryIds = ['news', 'weather', 'traffic', 'cooking', 'sports', 'business', 'entertainment', 'lifestyle',
  'technology', 'science', 'health', 'education', 'travel', 'music', 'government', 'organizations', 'people'];

/** channelForm returns {el, value()} for the profile and settings fields. */
export async function channelForm(ch = {}) {
  let cats;
  try {
    cats = await categories();
  } catch {
    // Without the server's names, the ids still make a usable form.
    cats = categoryIds.map(id => ({ id, name: id }));
  }
  const name = h('input', { name: 'name', id: 'ch-name', required: true, maxlength: 100, value: ch.name || '' });
  const handle = h('input', { name: 'handle', id: 'ch-handle', maxlength: 32, pattern: '[a-z0-9_]{3,32}', value: ch.handle || '', autocapitalize: 'none', spellcheck: 'false' });
  const description = h('textarea', { name: 'description', id: 'ch-description', rows: 4, maxlength: 2000 });
  description.value = ch.description || '';
  const category = h('select', { name: 'category', id: 'ch-category', required: true },
    cats.map(c => h('option', { value: c.id, selected: c.id === (ch.category || 'news') }, c.name)));
  const country = countrySelect(ch.country || '', t('form.none'));
  country.id = 'ch-country';
  const language = languageSelect(ch.language || '', t('form.none'));
  language.id = 'ch-language';
  const listed = h('input', { type: 'checkbox', name: 'listed', id: 'ch-listed', checked: ch.listed !== false });
  const reactions = ['any', 'default', 'none'].map(v => h('input', { type: 'radio', name: 'reactions', id: 'ch-reactions-' + v, value: v, checked: (ch.reactions || 'any') === v }));
  const el = h('div', { class: 'form-grid' },
    field(t('form.name'), name),
    field(t('form.handle'), handle, t('form.handle.hint')),
    h('div', { class: 'span-all' }, field(t('form.description'), description)),
    field(t('form.category'), category),
    field(t('form.country'), country),
    field(t('form.language'), language),
    h('div', { class: 'field' },
      h('span', { class: 'label' }, t('form.visibility')),
      h('label', { class: 'check', for: 'ch-listed' }, listed, ' ', t('form.listed')),
      h('small', { class: 'hint' }, t('form.listed.hint'))),
    h('fieldset', { class: 'span-all radio-group' },
      h('legend', null, t('form.reactions')),
      reactions.map(r => h('label', { class: 'check', for: r.id }, r, ' ', t('form.reactions.' + r.value)))));
  return {
    el,
    value() {
      return {
        name: name.value.trim(),
        handle: handle.value.trim().toLowerCase(),
        description: description.value.trim(),
        category: category.value,
        country: country.value,
        language: language.value,
        listed: listed.checked,
        reactions: reactions.find(r => r.checked)?.value || 'any',
      };
    },
    focus() { name.focus(); },
  };
}
