// The one way the web app talks to leadpipe: the public JSON API, with the
// workspace token held in this browser tab's session storage only.

const TOKEN_KEY = "leadpipe.token";
// API calls go to the same origin the app is served from; on AWS the app is
// under /<stage>/app/, so the API root is the directory above it.
const API_ROOT = new URL("..", document.baseURI).pathname.replace(/\/$/, "");

export class ApiError extends Error {
  constructor(status, code, message, details) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details || {};
  }
  /** Per-field errors of a 400 ({field: message}). */
  get fieldErrors() {
    const out = {};
    for (const e of this.details.errors || this.details.fields || []) {
      if (e && e.field) out[e.field] = e.message;
    }
    return out;
  }
}

export function getToken() { return sessionStorage.getItem(TOKEN_KEY); }
export function setToken(token) { sessionStorage.setItem(TOKEN_KEY, token); }
export function forgetToken() { sessionStorage.removeItem(TOKEN_KEY); }

const listeners = new Set();
/** Called with no argument when the API says the token is not (or no longer) valid. */
export function onUnauthorized(fn) { listeners.add(fn); }

export function apiUrl(path, params) {
  const url = new URL(API_ROOT + path, location.origin);
  for (const [key, value] of Object.entries(params || {})) {
    if (value === undefined || value === null || value === "") continue;
    url.searchParams.set(key, value);
  }
  return url.toString();
}

async function send(method, path, {params, body, signal, token: given,
                                   accept = "application/json"} = {}) {
  const headers = {Accept: accept};
  const token = given || getToken();
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(apiUrl(path, params), {
      method, headers, signal, credentials: "omit", cache: "no-store",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (err) {
    if (err.name === "AbortError") throw err;
    throw new ApiError(0, "network_error", "Cannot reach leadpipe.", {});
  }
  // A token being tried at sign-in is not a session ending.
  if (response.status === 401 && !given) listeners.forEach((fn) => fn());
  return response;
}

async function failure(response) {
  let payload = null;
  try { payload = await response.json(); } catch { /* not JSON */ }
  const error = (payload && payload.error) || {};
  return new ApiError(response.status, error.code || `http_${response.status}`,
                      error.message || `The server answered ${response.status}.`,
                      error.details);
}

/** A JSON call: resolves the parsed body, rejects with an ApiError. */
export async function api(method, path, options = {}) {
  const response = await send(method, path, options);
  if (!response.ok) throw await failure(response);
  if (response.status === 204) return null;
  const text = await response.text();
  return text ? JSON.parse(text) : null;
}

/** A JSON POST that also says how it was answered: {status, body} (201 new, 200 existing). */
export async function postAnswer(path, body, options = {}) {
  const response = await send("POST", path, {...options, body});
  if (!response.ok) throw await failure(response);
  const text = await response.text();
  return {status: response.status, body: text ? JSON.parse(text) : null};
}

/** A call whose answer is a file (CSV); a redirect to a presigned link is followed. */
export async function apiBlob(path, options = {}) {
  const response = await send("GET", path, {...options, accept: "text/csv, */*"});
  if (!response.ok) throw await failure(response);
  return response.blob();
}

export const get = (path, params, options = {}) => api("GET", path, {...options, params});
export const post = (path, body, options = {}) => api("POST", path, {...options, body});
export const patch = (path, body, options = {}) => api("PATCH", path, {...options, body});
export const del = (path, options = {}) => api("DELETE", path, options);

/** Every page of a cursor-paginated collection (small collections only: lists, imports). */
export async function getAll(path, params = {}, max = 1000) {
  const items = [];
  let cursor = null;
  do {
    const page = await get(path, {...params, limit: 200, cursor});
    items.push(...page.items);
    cursor = page.next_cursor;
  } while (cursor && items.length < max);
  return items;
}
