// The operator console. Plain DOM, no library, one module per panel: every value from the gateway goes into the
// page as a text node (never innerHTML), so a backend reason or a lock holder such as <img src=x onerror=...> shows
// as text. The admin token lives in this tab's sessionStorage and leaves only as an Authorization header of the
// page's own requests.
import { $, say } from './dom.js';
import { api, hooks, session } from './api.js';
import { renderLock } from './lock.js';
import { renderFleet } from './fleet.js';
import { renderCompute } from './compute.js';
import { renderSchedule } from './schedule.js';
import { renderActivity } from './activity.js';
import { renderUsage, USAGE_EVERY_TICKS } from './usage.js';

const POLL_MS = 1000;
let timer = null;
let ticks = 0;

function signedIn() {
  return !!session.getItem('mg.token');
}

function showViews() {
  const inside = signedIn();
  $('login').hidden = inside;
  $('views').hidden = !inside;
  $('logout').hidden = !inside;
  $('whoami').textContent = inside ? 'acting as ' + (session.getItem('mg.actor') || 'console') : '';
  if (inside && timer === null) {
    refresh();
    timer = setInterval(refresh, POLL_MS);
  }
  if (!inside && timer !== null) {
    clearInterval(timer);
    timer = null;
  }
}

function signOut(why) {
  session.removeItem('mg.token');
  session.removeItem('mg.lockToken');
  $('lock-banner').hidden = true;
  showViews();
  if (why) say(why);
}

$('login-form').addEventListener('submit', (event) => {
  event.preventDefault();
  session.setItem('mg.token', $('token').value.trim());
  session.setItem('mg.actor', $('actor').value.trim().replace(/[^A-Za-z0-9._@-]/g, '') || 'console');
  $('token').value = '';
  say('');
  showViews();
});
$('logout').addEventListener('click', () => signOut());

async function refresh() {
  if (!signedIn()) return;
  const [lockAnswer, backends, instances, spend, schedule, audit, deliveries] = await Promise.all([
    api('GET', '/admin/lock'), api('GET', '/admin/backends'), api('GET', '/admin/compute/instances'),
    api('GET', '/admin/compute/spend'), api('GET', '/admin/schedule'), api('GET', '/admin/audit?limit=20'),
    api('GET', '/admin/audit/webhooks')]);
  if (!signedIn()) return;
  renderLock(lockAnswer);
  renderFleet(backends);
  renderCompute(instances, spend);
  renderSchedule(schedule);
  renderActivity(audit, deliveries);
  if (ticks++ % USAGE_EVERY_TICKS === 0) {
    renderUsage(await api('GET', '/admin/usage?group_by=key'));
  }
  $('updated').textContent = 'updated ' + new Date().toISOString().substring(11, 19) + ' UTC';
}

hooks.refresh = refresh;
hooks.signOut = signOut;
showViews();
