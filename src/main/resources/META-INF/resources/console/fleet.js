// Routes and their backends, with drain and undrain.
import { $, el, tag, table, replace, errorText } from './dom.js';
import { change } from './api.js';

export function renderFleet(answer) {
  if (!answer.ok) {
    replace('routes', 'Backends unavailable: ' + errorText(answer));
    return;
  }
  const byRoute = new Map();
  for (const backend of answer.json.backends) {
    const routes = backend.routes.length ? backend.routes : ['(none: the fallback, or leaving)'];
    for (const route of routes) {
      if (!byRoute.has(route)) byRoute.set(route, []);
      byRoute.get(route).push(backend);
    }
  }
  const sections = [];
  for (const [route, backends] of [...byRoute.entries()].sort((a, b) => a[0].localeCompare(b[0]))) {
    sections.push(el('h3', {}, 'Route ', route));
    sections.push(table(['backend', 'state', 'reason', 'breaker', 'in flight / limit', 'queue', 'TTFT p50',
      'vLLM run / wait / KV', 'drain', ''], backends.map(backendRow)));
  }
  replace('routes', sections);
}

function backendRow(b) {
  const load = b.load || {};
  const signals = load.signals === 'OK'
    ? [load.running, load.waiting, load.kvCacheUsage === null ? '–' : Math.round(load.kvCacheUsage * 100) + '%'].join(' / ')
    : (load.signals || 'OFF').toLowerCase();
  const drained = b.drain !== 'NONE';
  return el('tr', { data: { backend: b.name } },
    el('td', {}, el('span', { class: 'value' }, b.name), el('br'), el('span', { class: 'muted' }, b.model)),
    el('td', {}, tag(b.state)),
    el('td', { class: 'reason' }, b.reason || ''),
    el('td', {}, tag(b.breaker)),
    el('td', {}, b.inFlight + ' / ' + b.maxConcurrency, el('span', { class: 'muted' }, ' ' + b.concurrency)),
    el('td', {}, b.waiting),
    el('td', {}, load.ttftP50Ms === null || load.ttftP50Ms === undefined ? '–' : Math.round(load.ttftP50Ms) + ' ms'),
    el('td', {}, signals),
    el('td', {}, tag(b.drain)),
    el('td', {}, el('button', { type: 'button', class: drained ? 'undrain' : 'drain',
      data: { action: drained ? 'undrain' : 'drain', backend: b.name } }, drained ? 'Undrain' : 'Drain')));
}

$('routes').addEventListener('click', (event) => {
  const button = event.target.closest('button[data-action]');
  if (!button) return;
  const name = button.dataset.backend;
  const action = button.dataset.action;
  change('POST', '/admin/backends/' + encodeURIComponent(name) + '/' + action, undefined,
    (action === 'drain' ? 'Draining ' : 'Undrained ') + name + '.');
});
