// Rented instances, today's spend, and provisioning through the cost guard (the estimate first, a second click
// over its limits).
import { $, el, tag, table, replace, usd, say, errorText } from './dom.js';
import { api, change, hooks } from './api.js';

let quote = null;         // the provision body and estimate the operator is looking at

export function renderCompute(instances, spend) {
  if (spend.ok) {
    const s = spend.json;
    replace('spend', 'Today (', s.day, ' UTC): ', el('span', { class: 'value' }, usd(s.committed_today_usd)),
      ' committed of the ', usd(s.daily_cap_usd), ' daily cap; spent so far ', usd(s.spend_usd),
      s.stopped_storage_usd_per_hour ? '; stopped storage bills ' + usd(s.stopped_storage_usd_per_hour) + '/h' : '');
  } else {
    replace('spend', 'Spend unavailable: ' + errorText(spend));
  }
  if (!instances.ok) {
    replace('instances', 'Instances unavailable: ' + errorText(instances));
    return;
  }
  const list = instances.json.instances || [];
  if (!list.length) {
    replace('instances', el('p', { class: 'muted' }, 'No rented instances.'));
    return;
  }
  replace('instances', table(['instance', 'provider', 'recipe', 'state', '$/h', 'hours', 'spend', ''],
    list.map((i) => el('tr', { data: { instance: i.id } },
      el('td', {}, el('span', { class: 'value' }, i.id)),
      el('td', {}, i.provider),
      el('td', {}, i.recipe),
      el('td', {}, tag(i.state), i.failure ? el('div', { class: 'muted' }, i.failure) : null),
      el('td', {}, i.usd_per_hour == null ? '–' : '$' + Number(i.usd_per_hour).toFixed(4)),
      el('td', {}, Number(i.running_hours || 0).toFixed(2)),
      el('td', {}, usd(i.spend_usd)),
      el('td', {}, ['stopped', 'destroyed', 'failed'].includes(i.state) && i.state !== 'stopped' ? '' : [
        i.state === 'stopped' ? null : el('button', { type: 'button', data: { action: 'stop', instance: i.id } }, 'Stop'),
        ' ', el('button', { type: 'button', class: 'danger', data: { action: 'destroy', instance: i.id } }, 'Destroy')])))));
}

async function instanceAction(action, id, force) {
  const query = force ? '?force=true' : '';
  const path = '/admin/compute/instances/' + encodeURIComponent(id) + (action === 'stop' ? '/stop' : '') + query;
  const answer = await change(action === 'stop' ? 'POST' : 'DELETE', path, undefined,
    (action === 'stop' ? 'Stopped ' : 'Destroyed ') + id + '.');
  if (answer.status === 409 && answer.json && answer.json.error && answer.json.error.code === 'instance_busy') {
    // The anti-stop guard: it serves or served recently. Say why, and offer the drain that makes it safe.
    say('Refused: ' + answer.json.error.message + ' Drain it first: requests in flight finish, then it '
      + (action === 'stop' ? 'stops.' : 'is destroyed.'));
    const box = $('message');
    box.append(' ', el('button', { type: 'button', class: 'danger', id: 'force-' + action,
      data: { action, instance: id, force: 'true' } }, 'Drain and ' + action));
  }
}

$('instances').addEventListener('click', (event) => {
  const button = event.target.closest('button[data-action]');
  if (button) instanceAction(button.dataset.action, button.dataset.instance, false);
});
$('message').addEventListener('click', (event) => {
  const button = event.target.closest('button[data-force]');
  if (button) instanceAction(button.dataset.action, button.dataset.instance, true);
});

function provisionBody() {
  const body = { provider: $('prov-provider').value, recipe: $('prov-recipe').value.trim(),
    hours: Number($('prov-hours').value) };
  if ($('prov-offer').value.trim()) body.offer_id = $('prov-offer').value.trim();
  return body;
}

function hideEstimate() {
  quote = null;
  $('estimate').hidden = true;
  $('prov-confirm').hidden = true;
  $('prov-launch').hidden = false;
}

// First the estimate (nothing launched), then Launch; over the guard's limits a second, explicit click.
$('provision-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  hideEstimate();
  const body = provisionBody();
  const answer = await api('POST', '/admin/compute/estimate', body);
  if (!answer.ok) {
    say('No estimate: ' + errorText(answer));
    return;
  }
  quote = { body, estimate: answer.json };
  const e = answer.json;
  const tiers = { auto: 'automatic: launches on Launch, counts against today\'s cap',
    warn: 'warning tier: counts against today\'s cap',
    over_cap: 'over today\'s cap: needs your confirmation', needs_confirmation: 'over the confirmation limit ('
      + usd(e.confirm_usd) + '): needs your confirmation' };
  replace('estimate-text', 'Estimate ', el('span', { class: 'value', id: 'estimate-usd' }, usd(e.estimate_usd)),
    ' (', e.estimate, ') on ', e.provider, ' offer ', e.offer, '. Tier: ', el('span', { class: 'value',
      id: 'estimate-tier' }, e.tier), ', ', tiers[e.tier] || '', '. Today: ', usd(e.committed_today_usd),
    ' of ', usd(e.daily_cap_usd), ' committed.');
  $('estimate').hidden = false;
  say('');
});

function askConfirmation(estimateUsd) {
  const button = $('prov-confirm');
  button.textContent = 'Confirm launch at ' + usd(estimateUsd);
  button.dataset.estimate = String(estimateUsd);
  button.hidden = false;
  $('prov-launch').hidden = true;
}

$('prov-launch').addEventListener('click', async () => {
  if (!quote) return;
  if (quote.estimate.confirmation_needed) {
    askConfirmation(quote.estimate.estimate_usd);
    say('This launch is over the cost guard\'s limits: confirm the estimate to launch it.');
    return;
  }
  await launch(undefined);
});

$('prov-confirm').addEventListener('click', () => launch(Number($('prov-confirm').dataset.estimate)));
$('prov-cancel').addEventListener('click', hideEstimate);

async function launch(confirmUsd) {
  const body = Object.assign({}, quote.body);
  if (confirmUsd !== undefined) body.confirm_estimate_usd = confirmUsd;
  const answer = await api('POST', '/admin/compute/instances', body);
  if (answer.ok) {
    say('Launched ' + answer.json.instance.id + ' (' + answer.json.estimate + ')'
      + (answer.json.warning ? '. ' + answer.json.warning : '.'), true);
    hideEstimate();
  } else if ((answer.status === 402 || answer.status === 409) && answer.json && answer.json.error
    && answer.json.error.estimate_usd !== undefined) {
    // The guard refused: nothing launched. Its estimate is what a confirmation must repeat.
    say('Not launched: ' + errorText(answer));
    askConfirmation(answer.json.error.estimate_usd);
  } else {
    say('Not launched: ' + errorText(answer));
  }
  hooks.refresh();
}
