// The console's only way to the backend: the public HTTP API with the
// signed-in user's bearer token. The token lives in sessionStorage, so it
// goes away with the tab.

const tokenKey = "clerkpath.token";

// ApiError is a failed call: the HTTP status and, when the API answered
// with an RFC 9457 problem document, its detail and field errors.
export class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.detail || problem?.title || `HTTP ${status}`);
    this.status = status;
    this.code = problem?.code || "";
    this.fields = Array.isArray(problem?.errors) ? problem.errors : [];
    this.requestId = problem?.request_id || "";
  }
}

// session returns the signed-in user read from the token's claims
// ({token, role, sub, org, exp}), or null. The claims are only read to
// choose pages; the gateway verifies the token on every call.
export function session() {
  const token = sessionStorage.getItem(tokenKey);
  if (!token) return null;
  const claims = readClaims(token);
  if (!claims) return null;
  if (claims.exp && claims.exp * 1000 < Date.now()) {
    sessionStorage.removeItem(tokenKey);
    return null;
  }
  return { token, role: claims.role, sub: claims.sub, org: claims.org || "", exp: claims.exp };
}

// readClaims decodes a JWT's payload, or answers null when it is not one.
export function readClaims(token) {
  const parts = token.split(".");
  if (parts.length !== 3) return null;
  try {
    const b64 = parts[1].replace(/-/g, "+").replace(/_/g, "/");
    const json = atob(b64 + "=".repeat((4 - (b64.length % 4)) % 4));
    const claims = JSON.parse(json);
    return typeof claims === "object" && claims && typeof claims.sub === "string" ? claims : null;
  } catch {
    return null;
  }
}

export function signIn(token) {
  sessionStorage.setItem(tokenKey, token);
}

export function signOut() {
  sessionStorage.removeItem(tokenKey);
}

// call sends one request. body: an object (sent as JSON), a Blob or File
// (sent as is, with contentType), or undefined. It answers the decoded
// JSON (or null for 204) and throws ApiError otherwise.
export async function call(method, path, { body, contentType, headers = {} } = {}) {
  const s = session();
  const h = { Accept: "application/json", ...headers };
  if (s) h.Authorization = `Bearer ${s.token}`;
  let payload;
  if (body instanceof Blob) {
    payload = body;
    h["Content-Type"] = contentType || body.type || "application/octet-stream";
  } else if (body !== undefined) {
    payload = JSON.stringify(body);
    h["Content-Type"] = "application/json";
  }
  let res;
  try {
    res = await fetch(path, { method, headers: h, body: payload });
  } catch (err) {
    throw new ApiError(0, { detail: `The server could not be reached (${err.message}).` });
  }
  if (res.status === 204) return null;
  const type = res.headers.get("Content-Type") || "";
  const data = type.includes("json") ? await res.json().catch(() => null) : null;
  if (!res.ok) {
    throw new ApiError(res.status, data);
  }
  return data;
}

export const get = (path) => call("GET", path);

// enc escapes one path segment.
export const enc = encodeURIComponent;
