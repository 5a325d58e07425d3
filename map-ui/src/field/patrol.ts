// A patrol: the phone's position recorded while the officer patrols and sent
// as a live track in batches through the outbox. The state (which track, the
// fixes not yet queued) is kept in localStorage, so a reload or a dead
// battery loses at most the fix being taken; the screen stays on while
// patrolling where the browser allows it (Wake Lock).

import { enqueue, newId } from './queue';
import { distanceM } from './net';

export interface Fix {
  lon: number;
  lat: number;
  /** ms since the epoch */
  t: number;
  accuracy: number;
}

interface PatrolState {
  active: boolean;
  /** The outbox id of the write that opens the track. */
  trackRef: string | null;
  startedAt: number;
  /** Fixes not yet in the outbox. */
  pending: Fix[];
  /** Fixes recorded in all. */
  count: number;
  last: Fix | null;
}

const KEY = 'gridpatrol.field.patrol';
/** A batch leaves after this many fixes, or this long after its first. */
const BATCH_FIXES = 10;
const BATCH_MS = 30_000;
/** Fixes less precise than this are not kept (m). */
const MAX_ACCURACY_M = 80;

function load(): PatrolState {
  try {
    const s = JSON.parse(localStorage.getItem(KEY) ?? 'null') as PatrolState | null;
    if (s && typeof s.active === 'boolean') return s;
  } catch {
    // a broken state starts over
  }
  return { active: false, trackRef: null, startedAt: 0, pending: [], count: 0, last: null };
}

function save(s: PatrolState): void {
  localStorage.setItem(KEY, JSON.stringify(s));
}

let state = load();
let watch: number | null = null;
let wakeLock: { release(): Promise<void> } | null = null;
const listeners: Array<(s: Readonly<PatrolState>) => void> = [];
let officer = '';

export function onPatrol(f: (s: Readonly<PatrolState>) => void): void {
  listeners.push(f);
  f(state);
}

function changed(): void {
  save(state);
  for (const f of listeners) f(state);
}

export function patrolState(): Readonly<PatrolState> {
  return state;
}

const iso = (t: number) => new Date(t).toISOString();

const MIN_TRACK_MS = 60_000;
const MIN_TRACK_M = 50;

function enough(fixes: Fix[]): boolean {
  if (fixes[fixes.length - 1].t - fixes[0].t >= MIN_TRACK_MS) return true;
  let m = 0;
  for (let i = 1; i < fixes.length; i++) m += distanceM([fixes[i - 1].lon, fixes[i - 1].lat], [fixes[i].lon, fixes[i].lat]);
  return m >= MIN_TRACK_M;
}

/** Queues the pending fixes: the first batch opens the track. */
async function queueBatch(close = false): Promise<void> {
  const fixes = state.pending;
  if (!state.trackRef) {
    // the server takes a track of at least 60 s or 50 m: the first batch
    // waits for that much (a shorter patrol is sent when it ends, and the
    // queue shows why it was refused)
    if (fixes.length < 2 || (!close && !enough(fixes))) {
      if (!close) return;
      state.pending = [];
      return; // a patrol of one fix covers nothing worth a track
    }
    const id = newId();
    const csv = ['officer,time,lon,lat', ...fixes.map((f) => `${officer},${iso(f.t)},${f.lon.toFixed(7)},${f.lat.toFixed(7)}`)].join('\n');
    state.trackRef = id;
    state.pending = [];
    save(state);
    await enqueue({ id, label: `开始巡查轨迹（${fixes.length} 个定位点）`, method: 'POST', path: '/api/v1/tracks?open=true', contentType: 'text/csv', body: csv });
    if (close) await enqueueAppend([], true);
    return;
  }
  if (fixes.length === 0 && !close) return;
  state.pending = [];
  save(state);
  await enqueueAppend(fixes, close);
}

async function enqueueAppend(fixes: Fix[], close: boolean): Promise<void> {
  const body = JSON.stringify({ points: fixes.map((f) => ({ lon: f.lon, lat: f.lat, time: iso(f.t) })) });
  const label = close ? `结束巡查（${fixes.length} 个定位点）` : `巡查轨迹 ${fixes.length} 个定位点`;
  await enqueue({ label, method: 'POST', path: `/api/v1/tracks/{ref:${state.trackRef}}/points${close ? '?close=true' : ''}`, contentType: 'application/json', body });
}

async function onFix(pos: GeolocationPosition): Promise<void> {
  const fix: Fix = { lon: pos.coords.longitude, lat: pos.coords.latitude, t: pos.timestamp || Date.now(), accuracy: pos.coords.accuracy };
  state.last = fix;
  if (!state.active) {
    for (const f of listeners) f(state);
    return;
  }
  if (fix.accuracy > MAX_ACCURACY_M || (state.pending.length && state.pending[state.pending.length - 1].t >= fix.t)) {
    for (const f of listeners) f(state);
    return;
  }
  state.pending.push(fix);
  state.count++;
  changed();
  const first = state.pending[0];
  if (state.pending.length >= BATCH_FIXES || (first && fix.t - first.t >= BATCH_MS)) await queueBatch();
}

/** Watches the position (for the map and distances) and records it while patrolling. */
export function watchPosition(user: string): void {
  officer = user;
  if (watch !== null || !('geolocation' in navigator)) return;
  watch = navigator.geolocation.watchPosition(
    (p) => void onFix(p),
    (e) => console.warn('geolocation', e.message),
    { enableHighAccuracy: true, maximumAge: 0, timeout: 30_000 },
  );
  if (state.active) void keepAwake();
}

async function keepAwake(): Promise<void> {
  const nav = navigator as Navigator & { wakeLock?: { request(kind: 'screen'): Promise<{ release(): Promise<void> }> } };
  try {
    wakeLock = (await nav.wakeLock?.request('screen')) ?? null;
  } catch {
    wakeLock = null; // not allowed now (page hidden): asked again on return
  }
}

document.addEventListener('visibilitychange', () => {
  if (document.visibilityState === 'visible' && state.active && !wakeLock) void keepAwake();
});

export async function startPatrol(): Promise<void> {
  if (state.active) return;
  state = { active: true, trackRef: null, startedAt: Date.now(), pending: [], count: 0, last: state.last };
  if (state.last && Date.now() - state.last.t < 60_000) {
    state.pending.push({ ...state.last });
    state.count = 1;
  }
  changed();
  await keepAwake();
}

export async function stopPatrol(): Promise<void> {
  if (!state.active) return;
  await queueBatch(true);
  state = { active: false, trackRef: null, startedAt: 0, pending: [], count: state.count, last: state.last };
  changed();
  await wakeLock?.release().catch(() => undefined);
  wakeLock = null;
}

/** Queues what is pending now (e.g. before the page goes away). */
export async function sendPending(): Promise<void> {
  if (state.active && state.pending.length >= 2) await queueBatch();
}
