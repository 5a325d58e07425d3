// The API client: a bearer token on every call (kept in localStorage), RFC
// 9457 problems turned into errors, and the list of endpoints this server
// offers, read from its OpenAPI document, so that the page never calls an
// endpoint that does not exist yet (and shows "not available yet" instead).

import type { components } from './api-types';

const TOKEN_KEY = 'gridpatrol.token';

/** The types of the API's answers, generated from its OpenAPI document (`npm run gen:api`). */
export type Schemas = components['schemas'];

/** An RFC 9457 problem; any field may be missing when a proxy answered. */
export type Problem = Partial<Schemas['Problem']>;

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly problem: Problem | null,
  ) {
    super(problem?.detail ?? problem?.title ?? `HTTP ${status}`);
  }
}

/** The endpoint is not offered by this server (yet). */
export class NotAvailable extends Error {
  constructor(readonly path: string) {
    super(`not available: ${path}`);
  }
}

export function isNotAvailable(e: unknown): boolean {
  return e instanceof NotAvailable || (e instanceof ApiError && (e.status === 404 || e.status === 405 || e.status === 501));
}

export function getToken(): string | null {
  try {
    return globalThis.localStorage?.getItem(TOKEN_KEY) ?? null;
  } catch {
    return null;
  }
}

export function setToken(token: string | null): void {
  try {
    if (token) globalThis.localStorage?.setItem(TOKEN_KEY, token);
    else globalThis.localStorage?.removeItem(TOKEN_KEY);
  } catch {
    // Storage disabled: the token lives as long as the page.
  }
  memoryToken = token;
}

let memoryToken: string | null = null;
let unauthorized: () => void = () => {};

/** Called on every 401: the page shows its sign-in box. */
export function onUnauthorized(fn: () => void): void {
  unauthorized = fn;
}

function headers(extra: Record<string, string> = {}): Record<string, string> {
  const token = getToken() ?? memoryToken;
  const h: Record<string, string> = { Accept: 'application/geo+json, application/json;q=0.9', ...extra };
  if (token) h.Authorization = `Bearer ${token}`;
  return h;
}

async function problemOf(res: Response): Promise<Problem | null> {
  try {
    return (await res.json()) as Problem;
  } catch {
    return null;
  }
}

export interface CallOptions {
  method?: string;
  body?: unknown;
  signal?: AbortSignal;
  /** Do not raise the sign-in box on 401 (the sign-in box itself). */
  quiet401?: boolean;
  token?: string;
}

async function call(path: string, opts: CallOptions): Promise<Response> {
  const extra: Record<string, string> = {};
  if (opts.body !== undefined) extra['Content-Type'] = 'application/json';
  const h = headers(extra);
  if (opts.token) h.Authorization = `Bearer ${opts.token}`;
  const res = await fetch(path, {
    method: opts.method ?? 'GET',
    headers: h,
    body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
    signal: opts.signal,
  });
  if (res.status === 401 && !opts.quiet401) unauthorized();
  if (!res.ok) throw new ApiError(res.status, await problemOf(res));
  return res;
}

export async function api<T>(path: string, opts: CallOptions = {}): Promise<T> {
  const res = await call(path, opts);
  return (await res.json()) as T;
}

export async function apiBlob(path: string, opts: CallOptions = {}): Promise<Blob> {
  return (await call(path, opts)).blob();
}

/** `path?k=v&...`, leaving out empty values. */
export function withQuery(path: string, params: Record<string, string | number | undefined | null>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  }
  const s = q.toString();
  return s ? `${path}?${s}` : path;
}

// ---- capabilities -------------------------------------------------------

/** Path templates → methods, from /api/v1/openapi.json; null when unknown. */
let offered: Map<string, Set<string>> | null = null;

export async function loadCapabilities(): Promise<void> {
  const doc = await api<{ paths?: Record<string, Record<string, unknown>> }>('/api/v1/openapi.json');
  const map = new Map<string, Set<string>>();
  for (const [p, ops] of Object.entries(doc.paths ?? {})) {
    map.set(p, new Set(Object.keys(ops).map((m) => m.toLowerCase())));
  }
  offered = map;
}

/**
 * Endpoints the page uses, and a cheap request that shows whether the server
 * serves one its OpenAPI document does not list (yet). A POST endpoint is
 * probed through a GET of its family.
 */
export const PROBES: Array<{ path: string; method: string; probe: string }> = [
  { path: '/api/v1/coverage', method: 'get', probe: '/api/v1/coverage?res=7' },
  { path: '/api/v1/tracks', method: 'get', probe: '/api/v1/tracks?limit=1' },
  { path: '/api/v1/blindspots/cells', method: 'get', probe: '/api/v1/blindspots/cells?limit=1' },
  { path: '/api/v1/blindspots/districts', method: 'get', probe: '/api/v1/blindspots/districts' },
  { path: '/api/v1/blindspots/near-venues', method: 'get', probe: '/api/v1/blindspots/near-venues' },
  { path: '/api/v1/blindspots/works', method: 'get', probe: '/api/v1/blindspots/works?kind=above_limit' },
  { path: '/api/v1/scorecard', method: 'get', probe: '/api/v1/scorecard' },
  { path: '/api/v1/projects/{id}/inspections', method: 'get', probe: '/api/v1/hazards?limit=1' },
  { path: '/api/v1/routes', method: 'post', probe: '/api/v1/routes?limit=1' },
  { path: '/api/v1/routes/{id}', method: 'get', probe: '/api/v1/routes?limit=1' },
];

/**
 * Asks the server about the endpoints its OpenAPI document leaves out. The
 * server answers a probe of a path it does not serve with 204 and
 * `x-gridpatrol-missing`, so nothing is logged as an error.
 */
export async function probeUndocumented(): Promise<void> {
  if (!offered) return;
  const map = offered;
  const missing = PROBES.filter((p) => !offers(p.path, p.method));
  const results = new Map<string, Promise<boolean>>();
  for (const p of missing) {
    if (!results.has(p.probe)) {
      results.set(
        p.probe,
        fetch(p.probe, { headers: headers({ 'X-Gridpatrol-Probe': '1' }) })
          .then(async (res) => {
            await res.arrayBuffer().catch(() => undefined);
            return !(res.status === 204 && res.headers.get('x-gridpatrol-missing') === '1') && res.status !== 404;
          })
          .catch(() => false),
      );
    }
  }
  await Promise.all(
    missing.map(async (p) => {
      if (await results.get(p.probe)) {
        const methods = map.get(p.path) ?? new Set<string>();
        methods.add(p.method);
        map.set(p.path, methods);
      }
    }),
  );
}

export function setCapabilities(paths: Record<string, string[]> | null): void {
  offered = paths ? new Map(Object.entries(paths).map(([p, m]) => [p, new Set(m)])) : null;
}

/** Whether the server offers `method path` (a template such as `/api/v1/routes/{id}`). */
export function offers(path: string, method = 'get'): boolean {
  if (!offered) return true; // unknown: try, and handle a 404
  const norm = (p: string) => p.replace(/\{[^}]+\}/g, '{}');
  const want = norm(path);
  for (const [p, methods] of offered) {
    if (norm(p) === want && methods.has(method.toLowerCase())) return true;
  }
  return false;
}

/** Throws NotAvailable when the server does not offer the endpoint. */
export function requireEndpoint(path: string, method = 'get'): void {
  if (!offers(path, method)) throw new NotAvailable(path);
}
