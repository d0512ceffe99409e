// Insights for a channel's admins: followers per day, net follows, views and
// reach per update, reactions, poll voters, notification share and viewers'
// app languages. Charts are SVG drawn here; nothing loads from elsewhere.
// Every figure counts people in bulk: the server hides any below k.
import { h } from '../dom.js';
import { t, tn, fmtNumber, fmtDate, languageName } from '../i18n.js';
import { api, paths, session } from '../api.js';
import { navigate, pageTitle, emptyPage } from '../ui.js';

const svgNS = 'http://www.w3.org/2000/svg';

function s(tag, attrs, ...children) {
  const el = document.createElementNS(svgNS, tag);
  for (const [k, v] of Object.entries(attrs || {})) if (v !== null && v !== undefined) el.setAttribute(k, String(v));
  for (const c of children) if (c) el.appendChild(typeof c === 'string' ? document.createTextNode(c) : c);
  return el;
}

/** chart draws values (numbers or null) as bars or a line, with a title. */
function chart(kind, label, points, fmt = fmtNumber) {
  const w = 960, ht = 180, pad = 24;
  const vals = points.map(p => p.value).filter(v => typeof v === 'number');
  const maxV = Math.max(1, ...vals.map(Math.abs));
  const minV = Math.min(0, ...vals);
  const span = maxV - minV || 1;
  const y = v => pad + (ht - 2 * pad) * (1 - (v - minV) / span);
  const step = (w - 2 * pad) / Math.max(1, points.length);
  const svg = s('svg', { viewBox: `0 0 ${w} ${ht}`, class: 'chart', role: 'img', 'aria-label': label });
  svg.appendChild(s('line', { x1: pad, x2: w - pad, y1: y(0), y2: y(0), class: 'chart-axis' }));
  if (kind === 'line') {
    const pts = points.map((p, i) => typeof p.value === 'number' ? `${pad + step * (i + 0.5)},${y(p.value)}` : null).filter(Boolean);
    if (pts.length) svg.appendChild(s('polyline', { points: pts.join(' '), class: 'chart-line' }));
  }
  points.forEach((p, i) => {
    const x = pad + step * i;
    if (typeof p.value !== 'number') return;
    if (kind === 'bars') {
      const top = Math.min(y(p.value), y(0));
      const bh = Math.max(1, Math.abs(y(p.value) - y(0)));
      // A few bars stay bars, not blocks across the chart.
      const bw = Math.min(step * 0.7, 28);
      svg.appendChild(s('rect', { x: x + (step - bw) / 2, y: top, width: bw, height: bh, class: p.value < 0 ? 'chart-bar negative' : 'chart-bar' },
        s('title', null, `${p.label}: ${fmt(p.value)}`)));
    } else {
      svg.appendChild(s('circle', { cx: x + step / 2, cy: y(p.value), r: 2.5, class: 'chart-dot' }, s('title', null, `${p.label}: ${fmt(p.value)}`)));
    }
  });
  svg.appendChild(s('text', { x: pad, y: 14, class: 'chart-label' }, fmt(maxV)));
  return h('figure', { class: 'chart-box' }, svg, h('figcaption', null, label));
}

const pct = v => new Intl.NumberFormat(undefined, { style: 'percent', maximumFractionDigits: 1 }).format(v);
const hidden = () => h('span', { class: 'muted', title: t('insights.hidden.title') }, t('insights.hidden'));

export async function insightsView(main, [id]) {
  if (!session.account) { navigate('/signin?next=' + encodeURIComponent(location.pathname), { replace: true }); return; }
  const ch = await api('GET', paths.channel(id));
  if (!ch.viewer?.role) {
    main.appendChild(emptyPage(t('insights.forbidden'), '', h('a', { class: 'btn primary', href: '/channels/' + encodeURIComponent(id) }, t('settings.back'))));
    return;
  }
  const data = await api('GET', paths.channel(id) + '/insights');
  const title = pageTitle(t('insights.title', { name: ch.name }));
  document.title = `${title.textContent} · Herald`;
  const back = h('a', { href: '/channels/' + encodeURIComponent(ch.id), class: 'back-link' }, '← ', ch.name);
  const net = data.days.reduce((a, d) => a + d.net, 0);
  const summary = h('div', { class: 'insights-summary' },
    h('div', { class: 'card stat', id: 'insights-followers' }, h('strong', null, fmtNumber(data.followers)), h('span', null, tn('channel.followers.word', data.followers))),
    h('div', { class: 'card stat', id: 'insights-net' }, h('strong', null, (net > 0 ? '+' : '') + fmtNumber(net)), h('span', null, t('insights.net30'))),
    h('div', { class: 'card stat', id: 'insights-notify' }, h('strong', null, data.notification_share === null ? hidden() : pct(data.notification_share)), h('span', null, t('insights.notifications'))));
  const days = data.days.map(d => ({ label: d.day, value: d.followers }));
  const nets = data.days.map(d => ({ label: d.day, value: d.net }));
  const ups = [...data.updates].reverse().slice(-30);
  const viewsChart = chart('bars', t('insights.chart.views'), ups.map(u => ({ label: fmtDate(u.created_at), value: u.views })));
  const rows = data.updates.map(u => h('tr', null,
    h('td', null, h('a', { href: `/channels/${encodeURIComponent(ch.id)}#u-${u.update_id}` }, fmtDate(u.created_at))),
    h('td', { class: 'num' }, u.views === null ? hidden() : fmtNumber(u.views)),
    h('td', { class: 'num' }, u.reach === null ? hidden() : pct(u.reach)),
    h('td', { class: 'num' }, u.public_views === null ? hidden() : fmtNumber(u.public_views)),
    h('td', { class: 'num' }, fmtNumber(u.reactions)),
    h('td', { class: 'num' }, u.poll_voters === null ? '—' : fmtNumber(u.poll_voters))));
  const table = h('table', { class: 'insights-table', id: 'insights-updates' },
    h('caption', null, t('insights.updates')),
    h('thead', null, h('tr', null, ...['insights.col.date', 'insights.col.views', 'insights.col.reach', 'insights.col.public', 'insights.col.reactions', 'insights.col.voters'].map((k, i) => h('th', { scope: 'col', class: i ? 'num' : null }, t(k))))),
    h('tbody', null, ...rows));
  const lastLang = data.languages[data.languages.length - 1];
  const langs = lastLang ? Object.entries(lastLang.viewers).sort((a, b) => (b[1] ?? -1) - (a[1] ?? -1)).map(([l, n]) =>
    h('li', null, h('span', null, l === 'other' ? t('insights.lang.other') : languageName(l) || l), ' ', n === null ? hidden() : h('strong', null, fmtNumber(n)))) : [];
  main.append(back, title,
    h('p', { class: 'muted', id: 'insights-note' }, tn('insights.note', data.threshold)),
    summary,
    chart('line', t('insights.chart.followers'), days),
    chart('bars', t('insights.chart.net'), nets),
    viewsChart,
    data.updates.length ? table : h('p', { class: 'muted' }, t('insights.noupdates')),
    h('section', { class: 'card', id: 'insights-languages' }, h('h2', { class: 'section-title' }, t('insights.languages', { day: lastLang ? lastLang.day : '' })),
      langs.length ? h('ul', { class: 'plain-list' }, ...langs) : h('p', { class: 'muted' }, t('insights.nolanguages'))));
}
