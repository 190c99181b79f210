// The console's only way to the gateway: the admin API, with the token from this tab's session storage.
import { say, errorText } from './dom.js';

export const session = window.sessionStorage;

/** What the entry module plugs in: read everything again, and sign out (a refused token). */
export const hooks = { refresh: () => {}, signOut: () => {} };

export async function api(method, path, body) {
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
  if (response.status === 401) hooks.signOut('The admin token was refused.');
  return { status: response.status, ok: response.ok, json };
}

/** A change: its outcome goes to the message line, then everything is read again. */
export async function change(method, path, body, done) {
  const answer = await api(method, path, body);
  if (answer.ok) say(done, true);
  else if (answer.status === 423) say('Locked: ' + errorText(answer));
  else say(method + ' ' + path + ' refused: ' + errorText(answer));
  hooks.refresh();
  return answer;
}
