// The field app's read views: today (my routes, works due an inspection,
// hazards past their deadline, on a map around me), the patrol controls, and
// the outbox with the state of every write.

import L from 'leaflet';
import { h } from '../util';
import { tv } from '../i18n';
import type { Schemas } from '../api';
import { all, type QueuedWrite } from './queue';
import { patrolState, startPatrol, stopPatrol } from './patrol';
import { beijingDate, beijingTime, cachedGet, distanceM, formatDistance, type Me } from './net';
import { anchor, nearbyWorks } from './forms';

type RouteCollection = Schemas['FeatureCollection_RouteProperties'];
type WorkRow = Schemas['WorkRow'];
type HazardList = Schemas['HazardList'];

let map: L.Map | null = null;
let layer: L.LayerGroup | null = null;

function here(): [number, number] | null {
  const last = patrolState().last;
  return last ? [last.lon, last.lat] : null;
}

function todayMap(root: HTMLElement): L.LayerGroup {
  const el = h('div', { class: 'f-map', id: 'f-map' });
  root.append(el);
  map?.remove();
  map = L.map(el, { zoomControl: false, attributionControl: false }).setView([31.03, 121.23], 14);
  layer = L.layerGroup().addTo(map);
  return layer;
}

function item(title: string, sub: string, right?: Node | string): HTMLLIElement {
  return h('li', {}, h('div', {}, h('div', { text: title }), h('div', { class: 'f-sub', text: sub })), right ?? null);
}

/** Today: my routes, works due an inspection and hazards past deadline, nearest first. */
export async function renderToday(root: HTMLElement, me: Me): Promise<void> {
  root.replaceChildren();
  const group = todayMap(root);
  const pos = here();
  const bounds: L.LatLngExpression[] = [];
  if (pos) {
    L.circleMarker([pos[1], pos[0]], { radius: 8, color: '#0f5c8c', fillOpacity: 0.9 }).addTo(group).bindTooltip('我的位置');
    bounds.push([pos[1], pos[0]]);
  }
  const date = beijingDate();
  const [routes, works, hazards, near] = await Promise.all([
    cachedGet<RouteCollection>(`/api/v1/routes?date=${date}&officer=${encodeURIComponent(me.user)}`),
    cachedGet<{ items: WorkRow[] }>('/api/v1/blindspots/works?kind=uninspected&limit=200'),
    cachedGet<HazardList>('/api/v1/hazards?overdue=true&limit=200'),
    nearbyWorks(pos),
  ]);
  // the works around me, for orientation
  for (const w of near.slice(0, 60)) {
    const a = anchor(w.geometry);
    if (a) L.circleMarker([a[1], a[0]], { radius: 4, color: '#5b6b7b', weight: 1, fillOpacity: 0.6 }).addTo(group).bindTooltip(w.properties.name);
  }
  if (pos && near[0]) {
    const a = anchor(near[0].geometry);
    if (a) bounds.push([a[1], a[0]]);
  }

  const routeCard = h('div', { class: 'f-card', id: 'f-routes' }, h('h3', { text: `今日路线（${date}）` }));
  const features = routes?.features ?? [];
  if (!features.length) routeCard.append(h('p', { class: 'f-muted', text: '今天没有分配给我的路线' }));
  for (const f of features) {
    const p = f.properties;
    routeCard.append(h('p', { class: 'f-muted', text: `${p.kind === 'sweep' ? '扫街' : '巡查'}路线 · ${p.stops.length} 个站点 · ${(p.distance_m / 1000).toFixed(1)} 公里 · ${beijingTime(p.starts_at)} 出发` }));
    const list = h('ol', { class: 'f-list' });
    for (const s of p.stops) {
      const d = pos ? ` · 距我 ${formatDistance(distanceM(pos, [s.lon, s.lat]))}` : '';
      list.append(item(`${s.order}. ${s.kind === 'work' ? '工地' : '网格单元'} ${s.target_id}`, `预计 ${beijingTime(s.eta)}${d}`));
      L.circleMarker([s.lat, s.lon], { radius: 6, color: '#d35400' }).addTo(group).bindTooltip(`第 ${s.order} 站`);
      bounds.push([s.lat, s.lon]);
    }
    routeCard.append(list);
  }
  root.append(routeCard);

  const due = (works?.items ?? []).map((w) => ({ w, d: pos ? distanceM(pos, [w.lon, w.lat]) : Number.NaN }));
  due.sort((a, b) => (Number.isNaN(a.d) ? 0 : a.d - b.d));
  const dueCard = h('div', { class: 'f-card', id: 'f-due' }, h('h3', { text: `待检查工地（${due.length}）` }));
  const dueList = h('ul', { class: 'f-list' });
  for (const { w, d } of due.slice(0, 30)) {
    const go = h('a', { href: `#inspect/${w.project_id}`, text: '去检查' });
    dueList.append(item(w.name, `${tv('category', w.category)} · ${tv('funding', w.funding)}${Number.isNaN(d) ? '' : ` · ${formatDistance(d)}`}`, go));
    L.circleMarker([w.lat, w.lon], { radius: 5, color: '#8e44ad' }).addTo(group).bindTooltip(w.name);
  }
  if (!due.length) dueList.append(h('li', { class: 'f-muted', text: '没有到期未检查的工地' }));
  dueCard.append(dueList);
  root.append(dueCard);

  const late = hazards?.items ?? [];
  const hazardCard = h('div', { class: 'f-card', id: 'f-overdue' }, h('h3', { text: `逾期未整改隐患（${late.length}）` }));
  const hazardList = h('ul', { class: 'f-list' });
  for (const z of late.slice(0, 30)) {
    hazardList.append(item(z.kind_zh, `${z.severity_zh} · 期限 ${z.deadline} · 逾期 ${z.days_overdue} 天 · ${z.status_zh}`, h('a', { href: `#hazard/${z.id}`, text: '跟踪' })));
  }
  if (!late.length) hazardList.append(h('li', { class: 'f-muted', text: '没有逾期隐患' }));
  hazardCard.append(hazardList);
  root.append(hazardCard);
  if (bounds.length && map) map.fitBounds(L.latLngBounds(bounds), { maxZoom: 16, padding: [20, 20] });
}

/** Start and stop a patrol, with what it recorded so far. */
export function renderPatrol(root: HTMLElement): void {
  const s = patrolState();
  const minutes = s.active ? Math.floor((Date.now() - s.startedAt) / 60_000) : 0;
  const accuracy = s.last ? `${Math.round(s.last.accuracy)} 米` : '等待定位';
  const button = s.active
    ? h('button', { type: 'button', class: 'f-danger f-big', id: 'f-stop', text: '结束巡查' })
    : h('button', { type: 'button', class: 'f-primary f-big', id: 'f-start', text: '开始巡查' });
  button.addEventListener('click', () => void (s.active ? stopPatrol() : startPatrol()));
  root.replaceChildren(
    h(
      'div',
      { class: 'f-card' },
      h('h2', { text: s.active ? '巡查中' : '未在巡查' }),
      h(
        'div',
        { class: 'f-stats' },
        h('div', {}, h('b', { id: 'f-fixes', text: String(s.count) }), '定位点'),
        h('div', {}, h('b', { text: String(minutes) }), '分钟'),
        h('div', {}, h('b', { text: accuracy }), '定位精度'),
      ),
      button,
      h('p', { class: 'f-muted', text: '巡查中请保持本页打开；轨迹每 10 个定位点或 30 秒保存一次，离线时先存在手机上，联网后自动发送。' }),
    ),
  );
  root.dataset.active = String(s.active);
}

const STATE_ZH: Record<QueuedWrite['state'], string> = { waiting: '等待发送', sent: '已发送', refused: '被拒绝' };

/** The outbox: every write with its state, and a button to send now. */
export async function renderQueue(root: HTMLElement, sendNow: () => Promise<void>): Promise<void> {
  const rows = (await all()).reverse();
  const list = h('ul', { class: 'f-list', id: 'f-queue-list' });
  for (const w of rows) {
    const state = h('span', { class: 'f-state', 'data-state': w.state, text: STATE_ZH[w.state] });
    const sub = `${beijingTime(w.createdAt)}${w.reason ? ` · ${w.reason}` : ''}`;
    const li = item(w.label, sub, state);
    li.dataset.state = w.state;
    list.append(li);
  }
  if (!rows.length) list.append(h('li', { class: 'f-muted', text: '没有待发送的记录' }));
  const button = h('button', { type: 'button', class: 'f-primary', id: 'f-send', text: '立即发送' });
  button.addEventListener('click', () => void sendNow());
  root.replaceChildren(h('div', { class: 'f-card' }, h('h2', { text: '待发送记录' }), list, button));
}
