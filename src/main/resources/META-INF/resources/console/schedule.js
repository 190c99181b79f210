// The schedule registry: a timeline of the coming days, the entries, and planning new work.
import { $, el, tag, table, replace, errorText } from './dom.js';
import { change } from './api.js';

const TIMELINE_DAYS = 7;

export function renderSchedule(answer) {
  if (!answer.ok) {
    replace('timeline');
    replace('schedule-list', 'Schedule unavailable: ' + errorText(answer));
    return;
  }
  const entries = answer.json.data || [];
  renderTimeline(entries);
  if (!entries.length) {
    replace('schedule-list', el('p', { class: 'muted' }, 'Nothing planned.'));
    return;
  }
  replace('schedule-list', table(['when (UTC)', 'kind', 'target', 'holder', 'state', 'note', ''],
    entries.map((e) => el('tr', { data: { entry: e.id } },
      el('td', {}, e.starts_at.replace('T', ' ').replace(':00Z', ''), ' → ',
        e.ends_at.replace('T', ' ').replace(':00Z', '')),
      el('td', {}, e.kind),
      el('td', {}, e.target_kind, ' ', el('span', { class: 'value' }, e.target)),
      el('td', {}, e.holder),
      el('td', {}, tag(e.state)),
      el('td', { class: 'reason' }, e.note || ''),
      el('td', {}, e.state === 'ended' ? '' : el('button', { type: 'button', class: 'danger',
        data: { action: 'delete', entry: e.id } }, 'Delete'))))));
}

function renderTimeline(entries) {
  const start = new Date();
  start.setUTCHours(0, 0, 0, 0);
  const span = TIMELINE_DAYS * 86400000;
  const days = [];
  for (let d = 0; d < TIMELINE_DAYS; d++) {
    const day = new Date(start.getTime() + d * 86400000);
    const mark = el('div', { class: 'day' }, day.toISOString().substring(5, 10));
    mark.style.left = (100 * d / TIMELINE_DAYS) + '%';
    days.push(mark);
  }
  const targets = [...new Set(entries.map((e) => e.target_kind + ' ' + e.target))];
  const rows = targets.map((target) => el('div', { class: 'row', title: target },
    entries.filter((e) => e.target_kind + ' ' + e.target === target).map((e) => {
      const from = Math.max(0, Date.parse(e.starts_at) - start.getTime());
      const to = Math.min(span, Date.parse(e.ends_at) - start.getTime());
      if (to <= 0 || from >= span) return null;
      const bar = el('div', { class: 'bar ' + e.kind + (e.state === 'active' ? ' active' : ''),
        title: e.kind + ' ' + target + ' ' + e.starts_at + ' – ' + e.ends_at + ' (' + e.holder + ')' },
        e.target + ': ' + e.kind);
      bar.style.left = (100 * from / span) + '%';
      bar.style.width = Math.max(3, 100 * (to - from) / span) + '%';
      return bar;
    })));
  replace('timeline', days, rows.length ? rows : el('div', { class: 'row muted' }, ' '));
}

$('schedule-list').addEventListener('click', (event) => {
  const button = event.target.closest('button[data-action="delete"]');
  if (button) change('DELETE', '/admin/schedule/' + encodeURIComponent(button.dataset.entry), undefined,
    'Schedule entry deleted.');
});

$('schedule-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const utc = (value) => (value.length === 16 ? value + ':00' : value) + 'Z';
  const body = { kind: $('sch-kind').value, target_kind: $('sch-target-kind').value,
    target: $('sch-target').value.trim(), starts_at: utc($('sch-start').value), ends_at: utc($('sch-end').value),
    holder: $('sch-holder').value.trim() };
  if ($('sch-note').value.trim()) body.note = $('sch-note').value.trim();
  await change('POST', '/admin/schedule', body, 'Added to the schedule.');
});
