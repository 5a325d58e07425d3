// State shared by the views: the map, the time window, the towns, the
// details panel and a toast for messages.

import type { Feature, FeatureCollection, Geometry } from 'geojson';
import { MapView } from './map';
import { lang, t, onLangChange, type MessageKey } from './i18n';
import { addDays, addDaysIso, esc, formatValue, h, isoDate, propLabel, townName } from './util';
import { api, isNotAvailable, offers } from './api';
import { caseFileSection } from './views/casefile';

export type Props = Record<string, unknown>;

export interface TimeWindow {
  from: string; // YYYY-MM-DD, inclusive
  to: string; // YYYY-MM-DD, inclusive
}

type DetailsKind = 'cell' | 'project' | 'venue' | 'district' | 'track' | 'town' | 'inspection';

export class App {
  readonly mapView: MapView;
  window: TimeWindow;
  towns: Feature<Geometry, Props>[] = [];
  private windowListeners: Array<() => void> = [];
  private detailsEl: HTMLElement;
  private toastEl: HTMLElement;
  private toastTimer = 0;
  private lastDetails: { kind: DetailsKind; feature: Feature<Geometry | null, Props> } | null = null;

  constructor(mapView: MapView, detailsEl: HTMLElement, toastEl: HTMLElement) {
    this.mapView = mapView;
    this.detailsEl = detailsEl;
    this.toastEl = toastEl;
    const today = new Date();
    this.window = { from: isoDate(addDays(today, -29)), to: isoDate(today) };
    onLangChange(() => {
      if (this.lastDetails) void this.showDetails(this.lastDetails.kind, this.lastDetails.feature);
    });
  }

  setWindow(w: TimeWindow): void {
    this.window = w;
    for (const fn of this.windowListeners) fn();
  }

  onWindowChange(fn: () => void): void {
    this.windowListeners.push(fn);
  }

  /** The window as API parameters: `to` is exclusive there (the day after). */
  windowParams(): { from: string; to: string } {
    return { from: this.window.from, to: addDaysIso(this.window.to, 1) };
  }

  toast(message: string, ms = 4000): void {
    this.toastEl.textContent = message;
    this.toastEl.hidden = false;
    window.clearTimeout(this.toastTimer);
    this.toastTimer = window.setTimeout(() => (this.toastEl.hidden = true), ms);
  }

  /** A message for a failed call: "not available yet" or the problem's detail. */
  errorText(e: unknown): string {
    if (isNotAvailable(e)) return t('common.not_available');
    return `${t('common.error')}: ${e instanceof Error ? e.message : String(e)}`;
  }

  hideDetails(): void {
    this.detailsEl.hidden = true;
    this.lastDetails = null;
    this.mapView.highlight(null);
  }

  /** True while the route planner waits for a click on the map (no details then). */
  picking = false;

  async showDetails(kind: DetailsKind, feature: Feature<Geometry | null, Props>): Promise<void> {
    if (this.picking) return;
    this.lastDetails = { kind, feature };
    const p = feature.properties ?? {};
    const el = this.detailsEl;
    el.hidden = false;
    el.dataset.kind = kind;
    el.dataset.id = String(feature.id ?? p.id ?? p.cell ?? '');
    const place = lang() === 'en' && typeof p.place_en === 'string' ? p.place_en : p.place;
    const title = String(place ?? p.name ?? p.cell ?? p.code ?? p.officer_name ?? p.officer ?? feature.id ?? '');
    const close = h('button', { class: 'close', type: 'button', title: t('common.close'), 'aria-label': t('common.close') }, '×');
    close.addEventListener('click', () => this.hideDetails());
    el.replaceChildren(
      h('header', {}, h('div', {}, h('div', { class: 'kind', text: t(`details.${kind}` as MessageKey) }), h('h2', { text: title })), close),
      this.kvTable(p, kind),
    );
    if (feature.geometry) this.mapView.highlight(feature.geometry);
    if (kind === 'cell' && place === undefined && typeof p.cell === 'string') await this.nameCell(p.cell, feature);
    if (kind === 'project' && feature.id !== undefined) await this.projectExtras(Number(feature.id));
    if (kind === 'project' && feature.id !== undefined) this.detailsEl.append(await caseFileSection(Number(feature.id), (e) => this.toast(this.errorText(e))));
  }

  private kvTable(p: Props, kind: DetailsKind): HTMLTableElement {
    const layer = kind === 'venue' ? 'venues' : kind === 'town' ? 'towns' : kind;
    const hidden = new Set(['cells', 'center', 'geometry', 'times', 'coordTimes', 'source_crs_note', 'reasons', 'place', 'place_en']);
    const table = h('table', { class: 'kv' });
    const order = FIELD_ORDER[kind] ?? [];
    const rank = (k: string) => (order.includes(k) ? order.indexOf(k) : order.length);
    const entries = Object.entries(p).sort((a, b) => rank(a[0]) - rank(b[0]));
    for (const [k, v] of entries) {
      if (hidden.has(k) || (k === 'name' && kind !== 'cell')) continue;
      if (typeof v === 'object' && v !== null && !Array.isArray(v)) continue;
      table.append(h('tr', {}, h('th', { text: propLabel(k) }), h('td', { text: formatValue(k, v, layer), class: ID_KEYS.has(k) ? 'id' : undefined })));
    }
    return table;
  }

  /**
   * A cell of the coverage map is named for people from the server
   * ("文翔路70号附近 · 岳阳街道 第1网格"); the H3 id stays in the table.
   */
  private async nameCell(cell: string, feature: Feature<Geometry | null, Props>): Promise<void> {
    if (!offers('/api/v1/basemap/place')) return;
    try {
      const n = await api<{ zh: string; en: string; grid?: string | null }>(`/api/v1/basemap/place?cell=${encodeURIComponent(cell)}`);
      if (this.lastDetails?.feature !== feature) return;
      const props = { ...feature.properties, place: n.zh, place_en: n.en, grid_name: n.grid ?? undefined };
      await this.showDetails('cell', { ...feature, properties: props });
    } catch {
      // The title stays the cell's id.
    }
  }

  /** Inspections and hazards of a project, when the server offers them. */
  private async projectExtras(id: number): Promise<void> {
    const section = h('section', { class: 'extras' });
    this.detailsEl.append(section);
    const path = `/api/v1/projects/${id}/inspections`;
    section.append(h('h3', { text: t('details.inspections') }));
    if (!offers('/api/v1/projects/{id}/inspections', 'get')) {
      section.append(h('p', { class: 'layer-note na', text: t('common.not_available') }));
      return;
    }
    try {
      const data = await api<unknown>(path);
      const list = asList(data);
      if (list.length === 0) {
        section.append(h('p', { class: 'muted small', text: t('details.no_inspections') }));
        return;
      }
      for (const ins of list) {
        const box = h('div', { class: 'inspection' });
        box.append(this.kvTable({ ...pick(ins, ['inspected_at']), inspector: ins.inspector_name ?? ins.inspector, note: ins.note }, 'inspection'));
        const hazards = asList(ins.hazards ?? ins.findings);
        box.append(h('h3', { text: t('details.hazards') }));
        if (hazards.length === 0) box.append(h('p', { class: 'muted small', text: t('details.no_hazards') }));
        const ul = h('ul', { class: 'reasons' });
        for (const hz of hazards) {
          const severity = lang() === 'zh' && typeof hz.severity_zh === 'string' ? hz.severity_zh : hz.severity;
          const parts = [
            formatValue('kind', hz.kind, 'hazards'),
            severity ? String(severity) : null,
            formatValue('status', hz.status, 'hazards'),
            hz.deadline ? `${t('prop.deadline')} ${formatValue('deadline', hz.deadline)}` : null,
          ];
          ul.append(h('li', { 'data-hazard': String(hz.id ?? ''), text: parts.filter(Boolean).join(' · ') }));
        }
        box.append(ul);
        section.append(box);
      }
    } catch (e) {
      section.append(h('p', { class: 'layer-note na', text: this.errorText(e) }));
    }
  }

  townLabel(code: unknown): string {
    return esc(townName(code));
  }
}

/** Ids and codes, kept in the details for the curious (an H3 cell, a code). */
const ID_KEYS = new Set(['code', 'cell', 'grid_id', 'project_code', 'venue_code', 'device', 'officer']);

/** The order in which a person reads the attributes of each kind of feature. */
const FIELD_ORDER: Partial<Record<DetailsKind, string[]>> = {
  project: [
    'code', 'category', 'status', 'funding', 'investment_cny', 'floor_area_m2', 'started_on', 'completed_on',
    'above_limit', 'hot_work', 'insulation', 'steel_mezzanine', 'insured', 'address', 'town',
  ],
  cell: [
    'grid_name', 'rank', 'risk', 'patrolled', 'patrolled_share', 'last_patrolled', 'days_since_patrol', 'days_since', 'visits',
    'overdue', 'overdue_share', 'interval_days', 'never_patrolled', 'projects', 'venues_near', 'commercial_district', 'town', 'cell', 'grid_id',
  ],
  venue: ['code', 'kind', 'town', 'proxy', 'source'],
  district: ['code', 'one_stop_plan', 'type', 'human_traffic'],
  track: ['officer_name', 'officer', 'device', 'started_at', 'ended_at', 'duration_s', 'length_m', 'point_count', 'resolution', 'sighting_m', 'open'],
};

export function asList(data: unknown): Props[] {
  if (Array.isArray(data)) return data as Props[];
  if (data && typeof data === 'object') {
    const o = data as Props;
    if (Array.isArray(o.features)) {
      return (o.features as Feature<Geometry | null, Props>[]).map((f) => ({ ...(f.properties ?? {}), id: f.id ?? f.properties?.id, geometry: f.geometry }));
    }
    for (const k of ['items', 'rows', 'data', 'results', 'inspections', 'hazards', 'towns']) {
      if (Array.isArray(o[k])) return o[k] as Props[];
    }
  }
  return [];
}

function pick(o: Props, keys: string[]): Props {
  const r: Props = {};
  for (const k of keys) if (o[k] !== undefined) r[k] = o[k];
  return r;
}

export type { FeatureCollection };
