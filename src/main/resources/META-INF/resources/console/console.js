// The operator console. Plain DOM, no library: every value from the gateway goes into the page as a text node
// (never innerHTML), so a backend reason or a lock holder such as <img src=x onerror=...> shows as text. The admin
// token lives in this tab's sessionStorage and leaves only as an Authorization header of the page's own requests.
'use strict';

(() => {
  const POLL_MS = 1000;
  const TIMELINE_DAYS = 7;
  const session = window.sessionStorage;
  const $ = (id) => document.getElementById(id);

  let timer = null;
  let lock = null;          // the last GET /admin/lock answer
  let lockSeenAt = 0;       // when it was read (ms), for the countdown
  let quote = null;         // the provision body and estimate the operator is looking at

  // ---- small helpers ------------------------------------------------------------------------------------------

  /** An element with attributes from code and children as text nodes (strings) or elements. */
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (value === undefined || value === null || value === false) continue;
      if (name === 'class') node.className = value;
      else if (name === 'data') Object.assign(node.dataset, value);
      else node.setAttribute(name, value === true ? '' : String(value));
    }
    for (const child of children.flat()) {
      if (child === undefined || child === null) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  function tag(text, kind) {
    return el('span', { class: 'tag state-' + String(kind || text).replace(/[^A-Za-z_]/g, '') }, text);
  }

  function table(headers, rows) {
    return el('div', { class: 'scroll' }, el('table', {},
      el('thead', {}, el('tr', {}, headers.map((h) => el('th', {}, h)))),
      el('tbody', {}, rows)));
  }

  /**
   * Puts fresh content into a panel, unless it reads the same as what is there: polling then leaves unchanged
   * panels alone, and a button stays the node under the operator's pointer. (innerHTML is only read, to compare.)
   */
  function replace(id, ...children) {
    const target = $(id);
    const fresh = document.createElement(target.tagName);
    fresh.replaceChildren(...children.flat().filter((c) => c !== null && c !== undefined));
    if (fresh.innerHTML !== target.innerHTML) target.replaceChildren(...fresh.childNodes);
  }

  function usd(value) {
    return value === null || value === undefined ? '–' : '$' + Number(value).toFixed(2);
  }

  function duration(seconds) {
    seconds = Math.max(0, Math.round(seconds));
    const h = Math.floor(seconds / 3600);
    const m = Math.floor((seconds % 3600) / 60);
    const s = seconds % 60;
    return (h ? h + 'h ' : '') + (h || m ? m + 'm ' : '') + s + 's';
  }

  function say(text, ok) {
    const box = $('message');
    box.textContent = text;
    box.classList.toggle('ok', !!ok);
    box.hidden = !text;
  }

  function errorText(answer) {
    const error = answer.json && answer.json.error;
    if (error && error.message) return error.message + (error.code ? ' (' + error.code + ')' : '');
    return 'HTTP ' + answer.status;
  }

  // ---- the gateway's admin API ----------------------------------------------------------------------------------

  async function api(method, path, body) {
    const headers = { Authorization: 'Bearer ' + session.getItem('mg.token'),
      'X-Gateway-Actor': session.getItem('mg.actor') || 'console' };
    const lockToken = session.getItem('mg.lockToken');
    if (lockToken) headers['X-Gateway-Lock-Token'] = lockToken;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    let response;
    try {
      response = await fetch(path, { method, headers, cache: 'no-store', credentials: 'omit',
        body: body === undefined ? undefined : JSON.stringify(body) });
    } catch (e) {
      return { status: 0, ok: false, json: { error: { message: 'The gateway did not answer: ' + e.message } } };
    }
    let json = null;
    try { json = await response.json(); } catch (e) { json = null; }
    if (response.status === 401) signOut('The admin token was refused.');
    return { status: response.status, ok: response.ok, json };
  }

  /** A change: its outcome goes to the message line, then everything is read again. */
  async function change(method, path, body, done) {
    const answer = await api(method, path, body);
    if (answer.ok) say(done, true);
    else if (answer.status === 423) say('Locked: ' + errorText(answer));
    else say(method + ' ' + path + ' refused: ' + errorText(answer));
    refresh();
    return answer;
  }

  // ---- sign in and out ------------------------------------------------------------------------------------------

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

  // ---- reading everything -----------------------------------------------------------------------------------------

  async function refresh() {
    if (!signedIn()) return;
    const [lockAnswer, backends, instances, spend, schedule, audit, hooks] = await Promise.all([
      api('GET', '/admin/lock'), api('GET', '/admin/backends'), api('GET', '/admin/compute/instances'),
      api('GET', '/admin/compute/spend'), api('GET', '/admin/schedule'), api('GET', '/admin/audit?limit=20'),
      api('GET', '/admin/audit/webhooks')]);
    if (!signedIn()) return;
    renderLock(lockAnswer);
    renderFleet(backends);
    renderCompute(instances, spend);
    renderSchedule(schedule);
    renderActivity(audit, hooks);
    $('updated').textContent = 'updated ' + new Date().toISOString().substring(11, 19) + ' UTC';
  }

  // ---- the maintenance lock -------------------------------------------------------------------------------------

  function renderLock(answer) {
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
    refresh();
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

  // ---- routes and backends --------------------------------------------------------------------------------------

  function renderFleet(answer) {
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

  // ---- compute ------------------------------------------------------------------------------------------------

  function renderCompute(instances, spend) {
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
    refresh();
  }

  // ---- schedule -----------------------------------------------------------------------------------------------

  function renderSchedule(answer) {
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

  // ---- recent activity ----------------------------------------------------------------------------------------

  function renderActivity(audit, hooks) {
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

  showViews();
})();
