/* Small DOM helpers shared by the chat and the office apps. */

/** Tiny element builder: h('div', {class: 'x', text: 'y', onclick: fn}, child, ...). */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  if (attrs) {
    for (const [k, v] of Object.entries(attrs)) {
      if (v === null || v === undefined || v === false) continue;
      if (k === 'class') el.className = v;
      else if (k === 'text') el.textContent = v;
      else if (k === 'dataset') Object.assign(el.dataset, v);
      else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
      else el.setAttribute(k, v === true ? '' : String(v));
    }
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : String(c));
  }
  return el;
}

/** The JSON a template put into <script type="application/json" id=…> (json_script). */
export function readJSON(id, fallback) {
  const el = document.getElementById(id);
  if (!el) return fallback;
  try { return JSON.parse(el.textContent); } catch (e) { return fallback; }
}

function hue(n) { return (Number(n) * 47) % 360; }

/** A round initial with a colour of its own for each seed (a user or conversation id). */
export function avatar(name, seed, extraClass) {
  const el = h('span', { class: 'avatar' + (extraClass ? ' ' + extraClass : ''), 'aria-hidden': 'true' },
    (String(name || '?').trim()[0] || '?').toUpperCase());
  el.style.setProperty('--avatar-hue', String(hue(seed)));
  return el;
}

let toastTimer = null;
/** A short note at the bottom of the chat, gone after five seconds. */
export function toast(text) {
  const el = document.getElementById('sb-toast');
  if (!el) return;
  el.textContent = text;
  el.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { el.hidden = true; }, 5000);
}

export const isNarrow = () => window.matchMedia('(max-width: 720px)').matches;
export const pageActive = () => document.visibilityState === 'visible' && document.hasFocus();
