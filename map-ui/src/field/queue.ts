// The field app's outbox: every write waits here (IndexedDB) with its own id,
// is sent in order when the network is there, and carries that id as its
// `Idempotency-Key`, so a write sent twice (the answer lost on the way back)
// is stored once. A write may name the server id of an earlier one (`{ref:ID}`
// in its path or body), e.g. the points of a track that was opened offline.

export type WriteState = 'waiting' | 'sent' | 'refused';

export interface QueuedWrite {
  /** Our id, also the Idempotency-Key. */
  id: string;
  /** Order of sending. */
  seq: number;
  /** What a person reads in the queue list, in Chinese. */
  label: string;
  method: string;
  /** May hold `{ref:ID}`: the server id answered to write ID. */
  path: string;
  contentType: string;
  /** Text (JSON, CSV) or a photo. May hold `{ref:ID}` when text. */
  body: string | Blob | null;
  createdAt: number;
  state: WriteState;
  /** Why it was refused, from the problem's detail. */
  reason?: string;
  status?: number;
  /** The id the server gave the record (from the answer), for later refs. */
  serverId?: number | string;
  sentAt?: number;
}

const DB = 'gridpatrol-field';
const STORE = 'outbox';

function open(): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(DB, 1);
    req.onupgradeneeded = () => {
      const db = req.result;
      if (!db.objectStoreNames.contains(STORE)) {
        const s = db.createObjectStore(STORE, { keyPath: 'id' });
        s.createIndex('seq', 'seq');
      }
    };
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

function done<T>(req: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

async function tx<T>(mode: IDBTransactionMode, f: (s: IDBObjectStore) => IDBRequest<T>): Promise<T> {
  const db = await open();
  try {
    return await done(f(db.transaction(STORE, mode).objectStore(STORE)));
  } finally {
    db.close();
  }
}

/** A new id: random, so two phones never share one. */
export function newId(): string {
  return crypto.randomUUID();
}

/** Every write, oldest first. */
export async function all(): Promise<QueuedWrite[]> {
  const rows = await tx('readonly', (s) => s.index('seq').getAll());
  return rows as QueuedWrite[];
}

async function put(w: QueuedWrite): Promise<void> {
  await tx('readwrite', (s) => s.put(w));
}

/** Queues a write; it is sent by the next `flush`. */
export async function enqueue(w: Omit<QueuedWrite, 'id' | 'seq' | 'createdAt' | 'state'> & { id?: string }): Promise<QueuedWrite> {
  const rows = await all();
  const seq = rows.reduce((m, r) => Math.max(m, r.seq), 0) + 1;
  const full: QueuedWrite = { ...w, id: w.id ?? newId(), seq, createdAt: Date.now(), state: 'waiting' };
  await put(full);
  changed();
  // the app sends it at once when it can (main.ts listens)
  globalThis.dispatchEvent?.(new Event('gridpatrol:queued'));
  return full;
}

/** Forgets the writes that were sent (the list keeps the last 50). */
export async function prune(keep = 50): Promise<void> {
  const sent = (await all()).filter((w) => w.state === 'sent');
  for (const w of sent.slice(0, Math.max(0, sent.length - keep))) {
    await tx('readwrite', (s) => s.delete(w.id));
  }
}

const REF = /\{ref:([0-9a-f-]{36})\}/g;

/** Replaces `{ref:ID}` by the server ids; null while one is not known yet. */
function resolveRefs(text: string, ids: Map<string, number | string>, json = false): string | null {
  let missing = false;
  const out = text.replace(REF, (_, id: string) => {
    const v = ids.get(id);
    if (v === undefined) {
      missing = true;
      return '';
    }
    return json ? JSON.stringify(v) : String(v);
  });
  return missing ? null : out;
}

/** The id a created record has in its answer. */
function serverIdOf(answer: unknown): number | string | undefined {
  if (!answer || typeof answer !== 'object') return undefined;
  const a = answer as Record<string, unknown>;
  if (typeof a.id === 'number' || typeof a.id === 'string') return a.id;
  const tracks = a.tracks as Array<Record<string, unknown>> | undefined;
  if (Array.isArray(tracks) && typeof tracks[0]?.id === 'number') return tracks[0].id as number;
  const inspection = a.inspection as Record<string, unknown> | undefined;
  if (inspection && typeof inspection.id === 'number') return inspection.id;
  return undefined;
}

let listeners: Array<() => void> = [];
/** Called whenever the queue changes. */
export function onChange(f: () => void): void {
  listeners.push(f);
}
function changed(): void {
  for (const f of listeners) f();
}
/** For tests of the page: forget the listeners. */
export function resetListeners(): void {
  listeners = [];
}

let flushing: Promise<FlushResult> | null = null;

export interface FlushResult {
  sent: number;
  refused: number;
  /** Still waiting (offline, the server busy). */
  waiting: number;
}

/**
 * Sends the waiting writes in order. Stops at the first that cannot be sent
 * now (no network, 5xx, 409 still running, 429): it is tried again later.
 * A 4xx refusal marks the write refused with its reason and goes on.
 */
export function flush(token: () => string | null): Promise<FlushResult> {
  if (!flushing) {
    flushing = send(token).finally(() => {
      flushing = null;
    });
  }
  return flushing;
}

async function send(token: () => string | null): Promise<FlushResult> {
  const rows = await all();
  const ids = new Map<string, number | string>();
  for (const r of rows) if (r.serverId !== undefined) ids.set(r.id, r.serverId);
  const result: FlushResult = { sent: 0, refused: 0, waiting: 0 };
  let stopped = false;
  for (const w of rows) {
    if (w.state !== 'waiting') continue;
    if (stopped) {
      result.waiting++;
      continue;
    }
    const path = resolveRefs(w.path, ids);
    const body = typeof w.body === 'string' ? resolveRefs(w.body, ids, w.contentType.includes('json')) : w.body;
    if (path === null || body === null) {
      // what it refers to was refused: it cannot be sent either
      const refused = rows.some((r) => r.state === 'refused' && (w.path + String(w.body)).includes(`{ref:${r.id}}`));
      if (refused) {
        Object.assign(w, { state: 'refused', reason: '所依赖的记录未被接收' });
        await put(w);
        result.refused++;
        continue;
      }
      stopped = true;
      result.waiting++;
      continue;
    }
    const headers: Record<string, string> = { 'Idempotency-Key': w.id, Accept: 'application/json' };
    if (w.body !== null) headers['Content-Type'] = w.contentType;
    const t = token();
    if (t) headers.Authorization = `Bearer ${t}`;
    let res: Response;
    try {
      res = await fetch(path, { method: w.method, headers, body: body ?? undefined });
    } catch {
      stopped = true; // offline
      result.waiting++;
      continue;
    }
    const text = await res.text();
    let answer: unknown = null;
    try {
      answer = text ? JSON.parse(text) : null;
    } catch {
      answer = null;
    }
    if (res.ok) {
      const id = serverIdOf(answer);
      Object.assign(w, { state: 'sent', status: res.status, sentAt: Date.now(), serverId: id });
      if (id !== undefined) ids.set(w.id, id);
      await put(w);
      result.sent++;
    } else if (res.status >= 500 || res.status === 429 || res.status === 408 || res.status === 401 || (res.status === 409 && res.headers.has('Retry-After'))) {
      // try again later: the server busy, the same write still running
      // (409 with Retry-After), or a sign-in needed again (401)
      w.status = res.status;
      await put(w);
      stopped = true;
      result.waiting++;
    } else {
      const a = (answer ?? {}) as { detail?: string; errors?: Array<{ field: string; reason: string }> };
      const reason = a.errors?.length ? a.errors.map((e) => `${e.field}: ${e.reason}`).join('；') : (a.detail ?? `HTTP ${res.status}`);
      Object.assign(w, { state: 'refused', status: res.status, reason });
      await put(w);
      result.refused++;
    }
    changed();
  }
  changed();
  return result;
}
