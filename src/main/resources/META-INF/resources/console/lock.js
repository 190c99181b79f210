// The maintenance lock: the banner every view shows while it is held, and the lock panel.
import { $, el, replace, duration, say, errorText } from './dom.js';
import { api, change, hooks, session } from './api.js';

let lock = null;          // the last GET /admin/lock answer
let lockSeenAt = 0;       // when it was read (ms), for the countdown

export function renderLock(answer) {
  if (!answer.ok) {
    replace('lock-state', 'Lock state unknown: ' + errorText(answer));
    return;
  }
  lock = answer.json;
  lockSeenAt = Date.now();
  const mine = lock.held && session.getItem('mg.lockToken') && String(lock.fencing) === session.getItem('mg.lockFencing');
  if (!lock.held && session.getItem('mg.lockToken')) {
    session.removeItem('mg.lockToken');
    session.removeItem('mg.lockFencing');
  }
  $('lock-banner').hidden = !lock.held;
  $('lock-holder').textContent = lock.held ? lock.holder : '';
  $('lock-reason').textContent = lock.held ? lock.reason : '';
  $('lock-fencing').textContent = lock.held ? lock.fencing : '';
  $('lock-mine').hidden = !mine;
  $('lock-renew').hidden = !mine;
  $('lock-release').hidden = !mine;
  $('lock-force').hidden = !lock.held || mine || !$('lock-force-confirm').hidden;
  $('lock-form').hidden = !!lock.held;
  tick();
  replace('lock-state', lock.held ? ['Held by ', el('span', { class: 'value' }, lock.holder), ' until ',
    lock.expires_at, '; every change needs its token.'] : 'Free: anyone with the admin token may change the gateway.');
}

function tick() {
  if (lock && lock.held) {
    const left = lock.seconds_left - (Date.now() - lockSeenAt) / 1000;
    $('lock-countdown').textContent = duration(left);
  }
}
setInterval(tick, 250);

$('lock-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const answer = await api('POST', '/admin/lock', { holder: $('lock-form-holder').value,
    reason: $('lock-form-reason').value, ttl_seconds: Math.round(Number($('lock-form-minutes').value) * 60) });
  if (answer.ok) {
    session.setItem('mg.lockToken', answer.json.token);
    session.setItem('mg.lockFencing', String(answer.json.fencing));
    say('Lock acquired (fencing ' + answer.json.fencing + '); this tab holds its token.', true);
  } else {
    say('Lock refused: ' + errorText(answer));
  }
  hooks.refresh();
});
$('lock-renew').addEventListener('click', () => change('PUT', '/admin/lock/renew', {}, 'Lock renewed.'));
$('lock-release').addEventListener('click', () => change('DELETE', '/admin/lock', undefined, 'Lock released.'));
// Ending someone else's lock takes a second, explicit click.
function forceAsked(asked) {
  $('lock-force').hidden = asked;
  $('lock-force-confirm').hidden = !asked;
  $('lock-force-cancel').hidden = !asked;
}
$('lock-force').addEventListener('click', () => forceAsked(true));
$('lock-force-cancel').addEventListener('click', () => forceAsked(false));
$('lock-force-confirm').addEventListener('click', async () => {
  forceAsked(false);
  await change('DELETE', '/admin/lock?force=true', undefined, 'Lock force-released.');
});
