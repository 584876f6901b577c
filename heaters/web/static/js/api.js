// JSON requests to the heaters API with the CSRF header.
//
// State-changing requests must carry the CSRF token in the `x-csrftoken` header. The token is the value of
// the `csrftoken` cookie, also written into <meta name="csrf-token"> by base.html; the cookie is read first
// because it stays current if the page outlives a token change.
//
//   import { api } from "/static/js/api.js";
//   const result = await api("POST", `/api/videos/${id}/cuts`, { frame: 120, expected_version: 7 });
//
// On a non-2xx answer it throws an ApiError carrying {status, error, detail} from the server's
// {"error", "detail"} body (error "network" / status 0 when the server could not be reached).

export class ApiError extends Error {
  constructor(status, error, detail, body = null) {
    super(detail || error || `HTTP ${status}`);
    this.name = "ApiError";
    this.status = status;
    this.error = error;
    this.detail = detail;
    this.body = body;
  }
}

const SAFE = new Set(["GET", "HEAD", "OPTIONS"]);

export function csrfToken() {
  const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]*)/);
  if (match) return decodeURIComponent(match[1]);
  const meta = document.querySelector('meta[name="csrf-token"]');
  return meta ? meta.content : "";
}

export async function api(method, url, body = undefined) {
  method = method.toUpperCase();
  const headers = { Accept: "application/json" };
  const init = { method, headers, credentials: "same-origin" };
  if (!SAFE.has(method)) headers["x-csrftoken"] = csrfToken();
  if (body instanceof FormData) {
    init.body = body; // the browser sets the multipart boundary
  } else if (body !== undefined && body !== null) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(url, init);
  } catch (cause) {
    throw new ApiError(0, "network", `cannot reach the server: ${cause.message || cause}`);
  }
  const text = await response.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (!response.ok) {
    const error = (data && data.error) || `http_${response.status}`;
    const detail = (data && data.detail) || response.statusText || text.slice(0, 200);
    if (response.status === 401) window.dispatchEvent(new CustomEvent("heaters:logged-out"));
    throw new ApiError(response.status, error, detail, data);
  }
  return data;
}
