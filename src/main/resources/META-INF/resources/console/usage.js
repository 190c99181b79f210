// Usage per key today: a table (requests, errors, tokens, TTFT, cost) and a bar chart of each key's share of the
// cost, with the rented instances' spend and what of it no key used. Read from /admin/usage every 10 s (the
// aggregate changes with traffic, not with clicks).
import { el, table, replace, usd, errorText } from './dom.js';

export const USAGE_EVERY_TICKS = 10;

function ms(value) {
  return value === null || value === undefined ? '–' : Math.round(value) + ' ms';
}

export function renderUsage(answer) {
  if (!answer.ok) {
    replace('usage-table', 'Usage unavailable: ' + errorText(answer));
    return;
  }
  const report = answer.json;
  const rows = report.data || [];
  const total = report.total || {};
  const instances = report.instances || [];
  const spend = instances.reduce((sum, i) => sum + Number(i.spend_usd), 0);
  const idle = instances.reduce((sum, i) => sum + Number(i.unattributed_usd), 0);
  replace('usage-summary', 'Since ' + String(report.from).replace('T', ' ').replace('Z', ' UTC') + ': '
    + total.requests + ' requests, ' + total.errors + ' errors, ' + total.input_tokens + ' input / '
    + total.output_tokens + ' output tokens, cost ' + usd(total.cost_usd)
    + (instances.length ? '; rented instances spent ' + usd(spend) + ', of which ' + usd(idle) + ' unused' : '')
    + '. Output tokens weigh ' + report.output_token_weight + 'x in the cost split.');
  replace('usage-table', table(['key', 'requests', 'errors', 'input tokens', 'output tokens', 'TTFT p50', 'TTFT p90',
    'cost'], rows.map((row) => el('tr', { data: { key: row.key === null ? '' : row.key } },
    el('td', {}, row.key === null ? '(none)' : row.key), el('td', {}, row.requests),
    el('td', {}, row.errors), el('td', {}, row.input_tokens), el('td', {}, row.output_tokens),
    el('td', {}, ms(row.ttft_ms.p50)), el('td', {}, ms(row.ttft_ms.p90)), el('td', {}, usd(row.cost_usd))))));
  const most = Math.max(...rows.map((row) => Number(row.cost_usd)), 0);
  const tokens = Math.max(...rows.map((row) => row.input_tokens + row.output_tokens), 0);
  replace('usage-chart', rows.map((row) => {
    // the bar shows the cost when there is any, else the tokens: a fleet without prices still gets a chart
    const share = most > 0 ? Number(row.cost_usd) / most : tokens > 0 ? (row.input_tokens + row.output_tokens) / tokens : 0;
    const bar = el('span', { class: 'usage-bar' });
    bar.style.width = Math.max(0, Math.min(100, share * 100)).toFixed(1) + '%';
    return el('div', { class: 'usage-row' }, el('span', { class: 'usage-key' }, row.key === null ? '(none)' : row.key),
      el('span', { class: 'usage-track' }, bar),
      el('span', { class: 'usage-value' }, most > 0 ? usd(row.cost_usd) : (row.input_tokens + row.output_tokens) + ' tok'));
  }));
}
