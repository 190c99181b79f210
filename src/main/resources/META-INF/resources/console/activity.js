// Recent audit lines and webhook delivery counts.
import { el, table, replace, errorText } from './dom.js';

export function renderActivity(audit, hooks) {
  if (hooks.ok) {
    const h = hooks.json;
    replace('webhooks', h.receivers ? 'Webhooks: ' + h.receivers + ' receiver(s)' + (h.signed ? ', signed' : ', UNSIGNED')
      + '; delivered ' + h.delivered + ', failed attempts ' + h.failed_attempts + ', dropped ' + h.dropped
      + ', queued ' + h.queued + '.' : 'No webhook receivers configured.');
  }
  if (!audit.ok) {
    replace('audit', 'Audit log unavailable: ' + errorText(audit));
    return;
  }
  replace('audit', table(['time (UTC)', 'who', 'action', 'target', 'result'],
    (audit.json.data || []).map((line) => el('tr', {},
      el('td', {}, String(line.time || '').replace('T', ' ').replace('Z', '')),
      el('td', {}, line.caller), el('td', {}, line.action), el('td', { class: 'reason' }, line.target || ''),
      el('td', {}, line.result)))));
}
