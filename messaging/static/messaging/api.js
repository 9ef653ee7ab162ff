/* The REST API (docs/api.md), with the session cookie and the CSRF token. */

export class ApiError extends Error {
  constructor(status, code, detail) {
    super(detail || code || `HTTP ${status}`);
    this.status = status;
    this.code = code;
    this.detail = detail;
  }
}

export function csrfToken() {
  const input = document.querySelector('#sb-chat input[name=csrfmiddlewaretoken], input[name=csrfmiddlewaretoken]');
  if (input && input.value) return input.value;
  const m = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  return m ? decodeURIComponent(m[1]) : '';
}

let unauthorized = () => {};
/** What to do when the API answers 401 (the session has ended). */
export function onUnauthorized(fn) { unauthorized = fn; }

/** Call the API; resolves to the JSON answer, rejects with an ApiError. */
export async function api(method, path, body) {
  const opts = { method, credentials: 'same-origin', headers: { Accept: 'application/json' } };
  if (body !== undefined) {
    opts.headers['Content-Type'] = 'application/json';
    opts.body = JSON.stringify(body);
  }
  if (method !== 'GET' && method !== 'HEAD') opts.headers['X-CSRFToken'] = csrfToken();
  const res = await fetch(path, opts);
  const text = await res.text();
  let data = null;
  if (text) { try { data = JSON.parse(text); } catch (e) { data = null; } }
  if (!res.ok) {
    if (res.status === 401) unauthorized();
    throw new ApiError(res.status, data && data.code, data && data.detail);
  }
  return data;
}

/** The items of a list answer, paged or not. */
export const listOf = (d) => (Array.isArray(d) ? d : (d && Array.isArray(d.results) ? d.results : []));
