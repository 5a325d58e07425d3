// The field app (/field): officers patrol, inspect and report from a phone,
// online or not. Reads are kept for offline use; writes go through the
// outbox (queue.ts) with idempotency keys. Chinese throughout.

import 'leaflet/dist/leaflet.css';
import './field.css';
import { getToken, setToken } from '../api';
import { $ } from '../util';
import { all, flush, onChange, prune } from './queue';
import { onPatrol, sendPending, watchPosition } from './patrol';
import { cachedGet, type Me, toast } from './net';
import { renderPatrol, renderQueue, renderToday } from './views';
import { renderInspect, renderReport } from './forms';
import { renderFollowUp } from './followup';
import { inboxUnread, renderInbox } from './inbox';

const VIEWS = ['today', 'inbox', 'patrol', 'inspect', 'report', 'queue', 'hazard'] as const;
type View = (typeof VIEWS)[number];

let me: Me | null = null;

function current(): View {
  const v = location.hash.replace('#', '').split('/')[0] as View;
  return VIEWS.includes(v) ? v : 'today';
}

async function show(): Promise<void> {
  if (!me) return;
  const view = current();
  for (const a of document.querySelectorAll<HTMLAnchorElement>('#f-tabs a')) {
    if (a.dataset.view === (view === 'hazard' ? 'today' : view)) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  for (const s of document.querySelectorAll<HTMLElement>('.f-view')) s.hidden = s.dataset.view !== view;
  const root = $(`#f-${view}`);
  if (view === 'today') await renderToday(root, me);
  else if (view === 'patrol') renderPatrol(root);
  else if (view === 'inspect') await renderInspect(root, me, location.hash.split('/')[1]);
  else if (view === 'report') renderReport(root, me);
  else if (view === 'hazard') await renderFollowUp(root, me, location.hash.split('/')[1] ?? '');
  else if (view === 'inbox') await renderInbox(root, () => void inboxBadge().then(show));
  else await renderQueue(root, () => sync(true));
  document.body.dataset.view = view;
}

async function badge(): Promise<void> {
  const waiting = (await all()).filter((w) => w.state === 'waiting').length;
  const b = $('#f-badge');
  b.hidden = waiting === 0;
  b.textContent = String(waiting);
  document.body.dataset.waiting = String(waiting);
}

/** The number of unread inbox items on the 待办 tab. */
async function inboxBadge(): Promise<void> {
  const unread = await inboxUnread();
  const b = $('#f-inbox-badge');
  b.hidden = unread === 0;
  b.textContent = String(unread);
  document.body.dataset.inboxUnread = String(unread);
}

function network(): void {
  const n = $('#f-net');
  n.dataset.online = String(navigator.onLine);
  n.textContent = navigator.onLine ? '在线' : '离线';
}

/** Sends what waits; `loud` tells the officer what happened. */
async function sync(loud = false): Promise<void> {
  if (!navigator.onLine) {
    if (loud) toast('当前离线，联网后自动发送');
    return;
  }
  const r = await flush(getToken);
  await prune();
  if (loud || r.refused) toast(`已发送 ${r.sent} 条${r.refused ? `，${r.refused} 条被拒绝（见待发送）` : ''}${r.waiting ? `，${r.waiting} 条等待` : ''}`);
}

async function signIn(): Promise<void> {
  const card = $('#f-signin');
  const form = $('#f-signin-form') as HTMLFormElement;
  card.hidden = false;
  $('#f-tabs').hidden = true;
  await new Promise<void>((resolve) => {
    form.onsubmit = async (e) => {
      e.preventDefault();
      const token = ($('#f-token') as HTMLInputElement).value.trim();
      const res = await fetch('/api/v1/me', { headers: { Authorization: `Bearer ${token}` } }).catch(() => null);
      if (!res?.ok) {
        const err = $('#f-signin-error');
        err.hidden = false;
        err.textContent = res ? '令牌无效或已过期' : '无法连接服务器';
        return;
      }
      setToken(token);
      resolve();
    };
  });
  card.hidden = true;
}

async function start(): Promise<void> {
  network();
  window.addEventListener('online', () => {
    network();
    void sync();
  });
  window.addEventListener('offline', network);
  window.addEventListener('gridpatrol:queued', () => void sync());
  if ('serviceWorker' in navigator) {
    navigator.serviceWorker.register('/field/sw.js', { scope: '/field/' }).catch((e) => console.warn('service worker', e));
  }
  if (!getToken()) await signIn();
  me = await cachedGet<Me>('/api/v1/me');
  if (!me) {
    setToken(null);
    await signIn();
    me = await cachedGet<Me>('/api/v1/me');
  }
  if (!me) return;
  $('#f-user').textContent = me.user;
  // what the forms need, kept for use offline
  void cachedGet('/api/v1/checklist');
  void cachedGet('/api/v1/openapi.json');
  $('#f-tabs').hidden = false;
  watchPosition(me.user);
  onChange(() => void badge().then(() => (current() === 'queue' ? show() : undefined)));
  onPatrol(() => {
    if (current() === 'patrol') renderPatrol($('#f-patrol'));
  });
  window.addEventListener('hashchange', () => void show());
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'hidden') void sendPending();
  });
  setInterval(() => void sync(), 15_000);
  setInterval(() => void inboxBadge(), 60_000);
  await badge();
  await inboxBadge();
  await show();
  void sync();
  document.body.dataset.ready = 'true';
}

void start();
