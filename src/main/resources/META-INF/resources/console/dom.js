// The console's DOM helpers: every value goes into the page as a text node (never parsed as markup).
export const $ = (id) => document.getElementById(id);

/** An element with attributes from code and children as text nodes (strings) or elements. */
export function el(tag, attrs, ...children) {
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

export function tag(text, kind) {
  return el('span', { class: 'tag state-' + String(kind || text).replace(/[^A-Za-z_]/g, '') }, text);
}

export function table(headers, rows) {
  return el('div', { class: 'scroll' }, el('table', {},
    el('thead', {}, el('tr', {}, headers.map((h) => el('th', {}, h)))),
    el('tbody', {}, rows)));
}

/**
 * Puts fresh content into a panel, unless it reads the same as what is there: polling then leaves unchanged
 * panels alone, and a button stays the node under the operator's pointer. (innerHTML is only read, to compare.)
 */
export function replace(id, ...children) {
  const target = $(id);
  const fresh = document.createElement(target.tagName);
  fresh.replaceChildren(...children.flat().filter((c) => c !== null && c !== undefined));
  if (fresh.innerHTML !== target.innerHTML) target.replaceChildren(...fresh.childNodes);
}

export function usd(value) {
  return value === null || value === undefined ? '–' : '$' + Number(value).toFixed(2);
}

export function duration(seconds) {
  seconds = Math.max(0, Math.round(seconds));
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  return (h ? h + 'h ' : '') + (h || m ? m + 'm ' : '') + s + 's';
}

export function say(text, ok) {
  const box = $('message');
  box.textContent = text;
  box.classList.toggle('ok', !!ok);
  box.hidden = !text;
}

export function errorText(answer) {
  const error = answer.json && answer.json.error;
  if (error && error.message) return error.message + (error.code ? ' (' + error.code + ')' : '');
  return 'HTTP ' + answer.status;
}

