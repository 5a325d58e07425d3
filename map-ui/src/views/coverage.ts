// The coverage map: boundaries, H3 cells coloured by days since the last
// patrol, works, venues, commercial districts and the tracks of a day, with
// layer switches, a time window and a details panel.
//
// Cells are asked at a resolution that fits the zoom (H3 res 8 for the whole
// district, 9 closer, 10 at street level for the towns in view), so the
// canvas never holds more than a few thousand hexagons.

import L from 'leaflet';
import type { Feature, FeatureCollection, Geometry } from 'geojson';
import type { App, Props } from '../app';
import { api, offers, withQuery, isNotAvailable } from '../api';
import { t, applyI18n, onLangChange, type MessageKey } from '../i18n';
import {
  COVERAGE_COLORS,
  COVERAGE_ORDER,
  DISTRICT_COLOR,
  FUNDING_COLORS,
  GRID_COLOR,
  ROUTE_COLOR,
  STATUS_COLORS,
  TOWN_COLOR,
  VENUE_COLOR,
  ZONE_COLOR,
  coverageClass,
  daysSince,
  officerColor,
  TRACK_COLORS,
} from '../colors';
import { addDays, addDaysIso, esc, h, isoDate, setTownNames } from '../util';

type FC = FeatureCollection<Geometry, Props>;
type F = Feature<Geometry, Props>;

interface LayerDef {
  key: string;
  label: MessageKey;
  swatch: string;
  swatchClass?: string;
  on: boolean;
  minZoom?: number;
}

const LAYERS: LayerDef[] = [
  { key: 'coverage', label: 'layers.coverage', swatch: COVERAGE_COLORS.never, on: true },
  { key: 'projects', label: 'layers.projects', swatch: STATUS_COLORS.in_progress, swatchClass: 'dot', on: true },
  { key: 'venues', label: 'layers.venues', swatch: VENUE_COLOR, swatchClass: 'dot', on: true },
  { key: 'districts', label: 'layers.districts', swatch: DISTRICT_COLOR, on: true },
  { key: 'tracks', label: 'layers.tracks', swatch: TRACK_COLORS[1], swatchClass: 'line', on: true },
  { key: 'towns', label: 'layers.towns', swatch: TOWN_COLOR, swatchClass: 'line', on: true },
  { key: 'zones', label: 'layers.zones', swatch: ZONE_COLOR, swatchClass: 'line', on: true, minZoom: 11 },
  { key: 'grids', label: 'layers.grids', swatch: GRID_COLOR, swatchClass: 'line', on: true, minZoom: 13 },
];

const PAGE = 10000;

/** Every feature of a layer (pages of 10,000). */
export async function loadAll(path: string, params: Record<string, string> = {}): Promise<FC> {
  const features: F[] = [];
  for (let offset = 0; ; offset += PAGE) {
    const page = await api<FC & { numberMatched?: number }>(withQuery(path, { ...params, limit: PAGE, offset }));
    features.push(...page.features);
    if (page.features.length < PAGE || (page.numberMatched ?? 0) <= features.length) break;
  }
  return { type: 'FeatureCollection', features };
}

/** The area of an H3 cell at Songjiang's latitude, in hectares (a resolution is 7× finer than the one before). */
function cellArea(res: number): string {
  const ha = 1.15 * 7 ** (10 - res);
  const n = ha >= 10 ? Math.round(ha) : Math.round(ha * 100) / 100;
  return t('unit.ha', { n });
}

let gridsPromise: Promise<FC> | null = null;
/** The grids, loaded once and shared with the route planner. */
export function loadGrids(): Promise<FC> {
  gridsPromise ??= loadAll('/api/v1/grids');
  return gridsPromise;
}

/** A label point for a (multi)polygon: the centroid of its largest ring. */
export function labelPoint(g: Geometry): [number, number] | null {
  const rings: number[][][] =
    g.type === 'Polygon' ? [g.coordinates[0]] : g.type === 'MultiPolygon' ? g.coordinates.map((p) => p[0]) : [];
  let best: [number, number] | null = null;
  let bestArea = 0;
  for (const ring of rings) {
    let a = 0;
    let cx = 0;
    let cy = 0;
    for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
      const f = ring[j][0] * ring[i][1] - ring[i][0] * ring[j][1];
      a += f;
      cx += (ring[j][0] + ring[i][0]) * f;
      cy += (ring[j][1] + ring[i][1]) * f;
    }
    if (Math.abs(a) > bestArea) {
      bestArea = Math.abs(a);
      best = [cx / (3 * a), cy / (3 * a)];
    }
  }
  if (!best && g.type === 'Point') return [g.coordinates[0], g.coordinates[1]];
  return best;
}

export class CoverageView {
  private readonly app: App;
  private readonly panel: HTMLElement;
  private readonly mapEl: HTMLElement;
  private notes = new Map<string, HTMLElement>();
  private projectFilter = { status: '', funding: '' };
  private trackDay = isoDate(addDays(new Date(), -1));
  private coverageCache = new Map<string, FC>();
  private coverageKey = '';
  private coverageAbort: AbortController | null = null;
  private coverageTimer = 0;
  private legend: L.Control | null = null;
  private coverageNote: { key: MessageKey; params?: Record<string, string | number> } | null = null;
  private statsEl: HTMLElement | null = null;
  private townBounds = new Map<string, L.LatLngBounds>();

  constructor(app: App, panel: HTMLElement, mapEl: HTMLElement) {
    this.app = app;
    this.panel = panel;
    this.mapEl = mapEl;
  }

  async init(): Promise<void> {
    this.renderPanel();
    this.addLegend();
    const map = this.app.mapView.map;
    map.on('zoomend', () => {
      this.applyZoomVisibility();
      this.applyMarkerSizes();
    });
    map.on('moveend', () => this.scheduleCoverage());
    this.app.onWindowChange(() => {
      this.syncWindowInputs();
      this.scheduleCoverage(0);
    });
    onLangChange(() => {
      this.renderLegend();
      this.refreshNotes();
    });
    // Towns first: they frame the map; the rest loads alongside.
    await this.loadTowns();
    await Promise.all([this.loadDistricts(), this.loadVenues(), this.loadProjects(), this.loadZones(), this.loadTracks()]);
    this.applyZoomVisibility();
    this.scheduleCoverage(0);
  }

  // ---- panel ---------------------------------------------------------------

  private renderPanel(): void {
    const p = this.panel;
    p.innerHTML = `
      <h2 data-i18n="nav.map"></h2>
      <h3 data-i18n="window.title"></h3>
      <div class="row">
        <label class="field"><span data-i18n="common.from"></span><input type="date" id="win-from"></label>
        <label class="field"><span data-i18n="common.to"></span><input type="date" id="win-to"></label>
      </div>
      <div class="chips" id="win-presets"></div>
      <h3 data-i18n="layers.title"></h3>
      <ul class="layers" id="layer-list"></ul>
      <p class="small muted" id="coverage-stats"></p>
      <h3 data-i18n="layers.projects"></h3>
      <div class="row">
        <label class="field"><span data-i18n="filter.status"></span><select id="f-status"></select></label>
        <label class="field"><span data-i18n="filter.funding"></span><select id="f-funding"></select></label>
      </div>
      <h3 data-i18n="layers.tracks"></h3>
      <div class="row">
        <label class="field"><span data-i18n="tracks.day"></span><input type="date" id="track-day"></label>
      </div>
      <p class="small muted" data-i18n="details.hint"></p>`;
    const list = p.querySelector('#layer-list') as HTMLElement;
    for (const def of LAYERS) {
      const cb = h('input', { type: 'checkbox', 'data-layer': def.key });
      cb.checked = def.on;
      cb.addEventListener('change', () => {
        this.app.mapView.setVisible(def.key, cb.checked);
        this.applyZoomVisibility();
      });
      this.app.mapView.setVisible(def.key, def.on);
      const note = h('span', { class: 'layer-note', 'data-note': def.key });
      this.notes.set(def.key, note);
      list.append(
        h(
          'li',
          {},
          h('label', {}, cb, h('span', { class: `swatch ${def.swatchClass ?? ''}`, style: `background:${def.swatch}` }), h('span', { 'data-i18n': def.label })),
          note,
        ),
      );
    }
    this.statsEl = p.querySelector('#coverage-stats');
    const presets = p.querySelector('#win-presets') as HTMLElement;
    for (const n of [7, 30, 90]) {
      const b = h('button', { type: 'button', class: 'chip', 'data-days': String(n) });
      b.addEventListener('click', () => {
        const today = new Date();
        this.app.setWindow({ from: isoDate(addDays(today, -(n - 1))), to: isoDate(today) });
      });
      presets.append(b);
    }
    const from = p.querySelector('#win-from') as HTMLInputElement;
    const to = p.querySelector('#win-to') as HTMLInputElement;
    const onDates = () => {
      if (from.value && to.value && from.value <= to.value) this.app.setWindow({ from: from.value, to: to.value });
    };
    from.addEventListener('change', onDates);
    to.addEventListener('change', onDates);
    this.syncWindowInputs();

    const status = p.querySelector('#f-status') as HTMLSelectElement;
    const funding = p.querySelector('#f-funding') as HTMLSelectElement;
    const fill = (sel: HTMLSelectElement, prefix: string, values: string[]) => {
      const cur = sel.value;
      sel.replaceChildren(h('option', { value: '', text: t('filter.all') }), ...values.map((v) => h('option', { value: v, text: t(`${prefix}.${v}` as MessageKey) })));
      sel.value = cur;
    };
    const fillAll = () => {
      fill(status, 'status', Object.keys(STATUS_COLORS));
      fill(funding, 'funding', Object.keys(FUNDING_COLORS));
    };
    fillAll();
    onLangChange(fillAll);
    status.addEventListener('change', () => {
      this.projectFilter.status = status.value;
      void this.loadProjects();
    });
    funding.addEventListener('change', () => {
      this.projectFilter.funding = funding.value;
      void this.loadProjects();
    });
    const day = p.querySelector('#track-day') as HTMLInputElement;
    day.value = this.trackDay;
    day.addEventListener('change', () => {
      if (!day.value) return;
      this.trackDay = day.value;
      this.trackDayChosen = true;
      void this.loadTracks();
    });
    applyI18n(p);
    this.renderPresetLabels();
    onLangChange(() => this.renderPresetLabels());
  }

  private renderPresetLabels(): void {
    this.panel.querySelectorAll<HTMLButtonElement>('#win-presets .chip').forEach((b) => {
      b.textContent = t('window.days', { n: b.dataset.days ?? '' });
    });
  }

  private syncWindowInputs(): void {
    const from = this.panel.querySelector('#win-from') as HTMLInputElement | null;
    const to = this.panel.querySelector('#win-to') as HTMLInputElement | null;
    if (from) from.value = this.app.window.from;
    if (to) to.value = this.app.window.to;
  }

  private noteState = new Map<string, { key?: MessageKey; text?: string; na?: boolean; tip?: { key: MessageKey; params: Record<string, string | number> } }>();

  private setNote(
    layer: string,
    state: { key?: MessageKey; text?: string; na?: boolean; params?: Record<string, string | number>; tip?: { key: MessageKey; params: Record<string, string | number> } },
  ): void {
    const text = state.key ? t(state.key, state.params) : (state.text ?? '');
    this.noteState.set(layer, state);
    const el = this.notes.get(layer);
    if (!el) return;
    el.textContent = text;
    // The jargon (H3, resolution) is in the tooltip for the curious.
    if (state.tip) el.title = t(state.tip.key, { ...state.tip.params, area: cellArea(Number(state.tip.params.n)) });
    else el.removeAttribute('title');
    el.classList.toggle('na', !!state.na);
    this.mapEl.dataset[`${layer}State`] = state.na ? 'na' : 'ok';
  }

  private refreshNotes(): void {
    for (const [layer, s] of this.noteState) this.setNote(layer, s);
    this.renderStats();
  }

  private applyZoomVisibility(): void {
    const z = this.app.mapView.map.getZoom();
    for (const def of LAYERS) {
      if (def.minZoom === undefined) continue;
      const cb = this.panel.querySelector<HTMLInputElement>(`input[data-layer="${def.key}"]`);
      const wanted = cb?.checked ?? def.on;
      const show = wanted && z >= def.minZoom;
      this.app.mapView.setVisible(def.key, show);
      const st = this.noteState.get(def.key);
      if (wanted && z < def.minZoom) this.setNote(def.key, { key: 'layers.zoom_in' });
      else if (st?.key === 'layers.zoom_in') this.setNote(def.key, { text: this.counts.get(def.key) ?? '' });
      if (def.key === 'grids' && show) void this.loadGridLayer();
    }
  }

  /** Smaller markers when the whole district is in view, so works do not hide the cells. */
  private markerSize(): { project: number; venue: number; weight: number } {
    const z = this.app.mapView.map.getZoom();
    if (z < 11.5) return { project: 3.5, venue: 3.5, weight: 1.5 };
    if (z < 13.5) return { project: 5, venue: 4.5, weight: 2 };
    return { project: 7, venue: 6, weight: 2.5 };
  }

  private applyMarkerSizes(): void {
    const s = this.markerSize();
    const resize = (name: string, r: number, w?: number) => {
      const layer = this.app.mapView.get(name) as L.GeoJSON | undefined;
      layer?.eachLayer((l) => {
        if (l instanceof L.CircleMarker) {
          l.setRadius(r);
          if (w !== undefined) l.setStyle({ weight: w });
        }
      });
    };
    resize('projects', s.project, s.weight);
    resize('venues', s.venue);
  }

  private counts = new Map<string, string>();
  private setCount(layer: string, n: number): void {
    this.counts.set(layer, String(n));
    this.mapEl.dataset[`${layer}Count`] = String(n);
    const st = this.noteState.get(layer);
    if (st?.key !== 'layers.zoom_in') this.setNote(layer, { text: String(n) });
  }

  private failed(layer: string, e: unknown): void {
    if (isNotAvailable(e)) this.setNote(layer, { key: 'common.not_available', na: true });
    else {
      this.setNote(layer, { key: 'common.error', na: true });
      this.app.toast(this.app.errorText(e));
    }
  }

  // ---- static layers ------------------------------------------------------

  private async loadTowns(): Promise<void> {
    const mv = this.app.mapView;
    try {
      const fc = await loadAll('/api/v1/towns');
      this.app.towns = fc.features;
      setTownNames(new Map(fc.features.map((f) => [String(f.properties.code), String(f.properties.name)])));
      const outline = mv.geo(fc, {
        interactive: false,
        style: () => ({ color: TOWN_COLOR, weight: 2.2, opacity: 0.9, fill: false, renderer: mv.renderer }),
      });
      const labels = L.layerGroup();
      for (const f of fc.features) {
        const at = labelPoint(f.geometry);
        if (!at) continue;
        labels.addLayer(
          L.marker(mv.toLatLng(at[0], at[1]), {
            interactive: false,
            keyboard: false,
            icon: L.divIcon({ className: 'town-label', html: esc(f.properties.name), iconSize: undefined }),
          }),
        );
      }
      this.townBounds.clear();
      outline.eachLayer((l) => {
        const gl = l as L.Polygon & { feature?: F };
        if (gl.feature) this.townBounds.set(String(gl.feature.properties.code), gl.getBounds());
      });
      mv.set('towns', outline);
      mv.set('labels', labels);
      const b = outline.getBounds();
      // Leave room for the legend in the lower left.
      if (b.isValid()) mv.map.fitBounds(b, { paddingTopLeft: [190, 10], paddingBottomRight: [10, 10] });
      this.setCount('towns', fc.features.length);
    } catch (e) {
      this.failed('towns', e);
    }
  }

  private async loadZones(): Promise<void> {
    const mv = this.app.mapView;
    try {
      const fc = await loadAll('/api/v1/zones');
      mv.set(
        'zones',
        mv.geo(fc, { interactive: false, style: () => ({ color: ZONE_COLOR, weight: 1.4, opacity: 0.8, dashArray: '6 4', fill: false, renderer: mv.renderer }) }),
      );
      this.setCount('zones', fc.features.length);
    } catch (e) {
      this.failed('zones', e);
    }
  }

  private gridLayerLoaded = false;
  private async loadGridLayer(): Promise<void> {
    if (this.gridLayerLoaded) return;
    this.gridLayerLoaded = true;
    const mv = this.app.mapView;
    try {
      const fc = await loadGrids();
      mv.set('grids', mv.geo(fc, { interactive: false, style: () => ({ color: GRID_COLOR, weight: 0.8, opacity: 0.9, fill: false, renderer: mv.renderer }) }));
      this.setCount('grids', fc.features.length);
      this.applyZoomVisibility();
    } catch (e) {
      this.failed('grids', e);
    }
  }

  private async loadDistricts(): Promise<void> {
    const mv = this.app.mapView;
    try {
      const fc = await loadAll('/api/v1/districts');
      mv.set('districtFill', mv.geo(fc, { interactive: false, style: () => ({ stroke: false, fillColor: DISTRICT_COLOR, fillOpacity: 0.07, renderer: mv.renderer }) }));
      const group = L.featureGroup();
      for (const f of fc.features) {
        const outline = mv.geo(f, {
          style: () => ({ color: DISTRICT_COLOR, weight: 2.5, opacity: 0.9, dashArray: '8 5', fill: false, renderer: mv.renderer }),
        });
        outline.on('click', () => void this.app.showDetails('district', f));
        group.addLayer(outline);
        // The name sits on the district's north edge, clear of the town names.
        const bounds = outline.getBounds();
        if (bounds.isValid()) {
          const label = L.marker(L.latLng(bounds.getNorth(), bounds.getCenter().lng), {
            icon: L.divIcon({ className: 'district-label', html: `${esc(f.properties.name)}`, iconSize: undefined }),
            keyboard: false,
          });
          label.on('click', () => void this.app.showDetails('district', f));
          (label as unknown as { feature: F }).feature = f;
          group.addLayer(label);
        }
      }
      mv.set('districts', group);
      this.setCount('districts', fc.features.length);
    } catch (e) {
      this.failed('districts', e);
    }
  }

  private async loadVenues(): Promise<void> {
    const mv = this.app.mapView;
    try {
      const fc = await loadAll('/api/v1/venues');
      const layer = mv.geo(fc, {
        style: () => ({ color: VENUE_COLOR, weight: 2, fillColor: VENUE_COLOR, fillOpacity: 0.25, renderer: mv.renderer }),
        pointToLayer: (_f, ll) =>
          L.circleMarker(ll, { radius: this.markerSize().venue, color: '#fff', weight: 1.5, fillColor: VENUE_COLOR, fillOpacity: 0.95, renderer: mv.renderer }),
      });
      layer.on('click', (ev) => void this.app.showDetails('venue', (ev.propagatedFrom as { feature: F }).feature));
      mv.set('venues', layer);
      this.setCount('venues', fc.features.length);
    } catch (e) {
      this.failed('venues', e);
    }
  }

  private async loadProjects(): Promise<void> {
    const mv = this.app.mapView;
    try {
      const fc = await loadAll('/api/v1/projects', this.projectFilter);
      const layer = mv.geo(fc, {
        style: (f) => ({
          color: FUNDING_COLORS[String(f?.properties.funding)] ?? '#333',
          weight: 2.5,
          fillColor: STATUS_COLORS[String(f?.properties.status)] ?? '#999',
          fillOpacity: 0.6,
          renderer: mv.renderer,
        }),
        pointToLayer: (f: F, ll) =>
          L.circleMarker(ll, {
            radius: this.markerSize().project,
            color: FUNDING_COLORS[String(f.properties.funding)] ?? '#333',
            weight: this.markerSize().weight,
            fillColor: STATUS_COLORS[String(f.properties.status)] ?? '#999',
            fillOpacity: 0.95,
            renderer: mv.renderer,
          }),
      });
      layer.on('click', (ev) => void this.app.showDetails('project', (ev.propagatedFrom as { feature: F }).feature));
      mv.set('projects', layer);
      this.setCount('projects', fc.features.length);
    } catch (e) {
      this.failed('projects', e);
    }
  }

  private trackDayChosen = false;

  /** The day of the latest track (tracks are listed oldest first). */
  private async latestTrackDay(): Promise<string | null> {
    const head = await api<FC & { numberMatched?: number }>('/api/v1/tracks?limit=1');
    const n = head.numberMatched ?? head.features.length;
    if (n === 0) return null;
    const last = n > 1 ? await api<FC>(`/api/v1/tracks?limit=1&offset=${n - 1}`) : head;
    const started = last.features[0]?.properties.started_at;
    return typeof started === 'string' ? isoDate(new Date(started)) : null;
  }

  private async loadTracks(): Promise<void> {
    const mv = this.app.mapView;
    if (!offers('/api/v1/tracks')) {
      this.setNote('tracks', { key: 'common.not_available', na: true });
      return;
    }
    try {
      if (!this.trackDayChosen) {
        this.trackDayChosen = true;
        const latest = await this.latestTrackDay();
        if (latest && latest < this.trackDay) {
          this.trackDay = latest;
          const input = this.panel.querySelector('#track-day') as HTMLInputElement | null;
          if (input) input.value = latest;
        }
      }
      const to = addDaysIso(this.trackDay, 1);
      const fc = await loadAll('/api/v1/tracks', { from: this.trackDay, to });
      // A white casing keeps the line readable over any cell colour.
      const casing = mv.geo(fc, { interactive: false, style: () => ({ color: '#ffffff', weight: 6, opacity: 0.85, renderer: mv.renderer }) });
      const line = mv.geo(fc, {
        style: (f) => ({ color: officerColor(String(f?.properties.officer ?? f?.id ?? '')), weight: 3, opacity: 0.95, renderer: mv.renderer }),
        pointToLayer: (_f, ll) => L.circleMarker(ll, { radius: 2, renderer: mv.renderer }),
      });
      line.on('click', (ev) => void this.app.showDetails('track', (ev.propagatedFrom as { feature: F }).feature));
      mv.set('tracks', L.featureGroup([casing, line]));
      this.setNote('tracks', { key: 'tracks.count', params: { n: fc.features.length } });
      this.mapEl.dataset.tracksCount = String(fc.features.length);
    } catch (e) {
      this.failed('tracks', e);
    }
  }

  // ---- coverage -----------------------------------------------------------

  private scheduleCoverage(delay = 250): void {
    window.clearTimeout(this.coverageTimer);
    this.coverageTimer = window.setTimeout(() => void this.loadCoverage(), delay);
  }

  /** The resolution and scopes that fit the current view. */
  private coverageRequests(): { res: number; scopes: string[] } {
    const map = this.app.mapView.map;
    const z = map.getZoom();
    if (z < 12) return { res: 8, scopes: ['district'] };
    if (z < 14) return { res: 9, scopes: ['district'] };
    const view = map.getBounds();
    const towns = [...this.townBounds.entries()].filter(([, b]) => b.intersects(view)).map(([code]) => code);
    // Town bounding boxes overlap; six is what a street-level view can touch.
    if (towns.length === 0 || towns.length > 6) return { res: 9, scopes: ['district'] };
    return { res: 10, scopes: towns.map((c) => `town:${c}`) };
  }

  private async loadCoverage(): Promise<void> {
    if (!offers('/api/v1/coverage')) {
      this.coverageNote = { key: 'common.not_available_long' };
      this.setNote('coverage', { key: 'common.not_available', na: true });
      this.renderStats();
      return;
    }
    const { res, scopes } = this.coverageRequests();
    const w = this.app.windowParams();
    const keys = scopes.map((s) => `${s}|${res}|${w.from}|${w.to}`);
    const key = keys.join(',');
    if (key === this.coverageKey) {
      // Same cells: at street level only the part in view is on the canvas.
      if (res >= 10) this.drawCoverage(this.coverageFeatures, res);
      return;
    }
    this.coverageAbort?.abort();
    const abort = new AbortController();
    this.coverageAbort = abort;
    this.setNote('coverage', { key: 'common.loading' });
    try {
      const parts = await Promise.all(
        scopes.map(async (scope, i) => {
          const cached = this.coverageCache.get(keys[i]);
          if (cached) return cached;
          const fc = await api<FC>(withQuery('/api/v1/coverage', { scope, res, from: w.from, to: w.to }), { signal: abort.signal });
          if (this.coverageCache.size > 24) this.coverageCache.clear();
          this.coverageCache.set(keys[i], fc);
          return fc;
        }),
      );
      if (abort.signal.aborted) return;
      const features = parts.flatMap((p) => p.features);
      this.coverageFeatures = features;
      this.drawCoverage(features, res);
      this.coverageKey = key;
    } catch (e) {
      if (abort.signal.aborted) return;
      this.failed('coverage', e);
    }
  }

  private coverageFeatures: F[] = [];
  private cellBounds = new WeakMap<F, L.LatLngBounds>();

  /** The features whose hexagon lies in (a padded) view. */
  private inView(features: F[]): F[] {
    const mv = this.app.mapView;
    const view = mv.map.getBounds().pad(0.5);
    return features.filter((f) => {
      let b = this.cellBounds.get(f);
      if (!b) {
        b = mv.boundsOf(f.geometry) ?? L.latLngBounds([]);
        this.cellBounds.set(f, b);
      }
      return b.isValid() && view.intersects(b);
    });
  }

  private drawCoverage(all: F[], res: number): void {
    const mv = this.app.mapView;
    const now = new Date();
    let patrolled = 0;
    let overdue = 0;
    const features = res >= 10 ? this.inView(all) : all;
    const fc: FC = { type: 'FeatureCollection', features };
    const layer = mv.geo(fc, {
      style: (f) => {
        const cls = coverageClass(f?.properties ?? {}, now);
        return {
          stroke: res >= 10,
          color: '#ffffff',
          weight: 0.6,
          fillColor: COVERAGE_COLORS[cls],
          fillOpacity: res >= 10 ? 0.55 : 0.5,
          renderer: mv.renderer,
        };
      },
    });
    for (const f of all) {
      const cls = coverageClass(f.properties, now);
      if (cls !== 'never') patrolled++;
      if (cls === 'overdue') overdue++;
    }
    layer.on('click', (ev) => {
      const f = (ev.propagatedFrom as { feature: F }).feature;
      const days = daysSince(f.properties.last_patrolled as string | null, new Date());
      const extra = 'days_since_patrol' in f.properties ? {} : { days_since: days ?? '—' };
      void this.app.showDetails('cell', { ...f, properties: { ...f.properties, ...extra } });
    });
    mv.set('coverage', layer);
    this.mapEl.dataset.cellsCount = String(features.length);
    this.mapEl.dataset.cellsRes = String(res);
    this.coverageRes = res;
    this.coverageNote = { key: 'coverage.stats', params: { cells: all.length, patrolled, overdue } };
    this.setNote('coverage', { key: res >= 10 ? 'coverage.res' : 'coverage.res_agg', params: { n: res }, tip: { key: 'coverage.res_tip', params: { n: res } } });
    this.renderStats();
  }

  private coverageRes = 10;

  private renderStats(): void {
    if (!this.statsEl) return;
    const stats = this.coverageNote ? t(this.coverageNote.key, this.coverageNote.params) : '';
    const aggregated = this.coverageNote?.key === 'coverage.stats' && this.coverageRes < 10;
    this.statsEl.replaceChildren(h('span', { text: stats }), aggregated ? h('span', { class: 'agg-note', text: t('coverage.agg_note') }) : '');
  }

  // ---- legend -------------------------------------------------------------

  private addLegend(): void {
    const Legend = L.Control.extend({
      options: { position: 'bottomleft' },
      onAdd: () => {
        const div = L.DomUtil.create('div', 'legend');
        div.id = 'legend';
        L.DomEvent.disableClickPropagation(div);
        L.DomEvent.disableScrollPropagation(div);
        // A click on a heading folds the legend away (and back).
        div.addEventListener('click', (ev) => {
          if ((ev.target as HTMLElement).closest('h4')) div.classList.toggle('folded');
        });
        return div;
      },
    });
    this.legend = new Legend();
    this.legend.addTo(this.app.mapView.map);
    this.renderLegend();
  }

  private renderLegend(): void {
    const div = document.getElementById('legend');
    if (!div) return;
    const item = (swatch: string, label: string) => `<div class="item">${swatch}<span>${esc(label)}</span></div>`;
    const box = (c: string) => `<span class="swatch" style="background:${c};opacity:.8"></span>`;
    const dot = (c: string) => `<span class="swatch dot" style="background:${c}"></span>`;
    const ring = (c: string) => `<span class="ring" style="border-color:${c}"></span>`;
    const line = (c: string, dash = false) =>
      `<svg width="16" height="8"><line x1="0" y1="4" x2="16" y2="4" stroke="${c}" stroke-width="3" ${dash ? 'stroke-dasharray="5 3"' : ''}/></svg>`;
    const classLabel: Record<string, MessageKey> = {
      never: 'legend.never',
      overdue: 'legend.overdue',
      recent2: 'legend.recent2',
      recent1: 'legend.recent1',
      recent0: 'legend.recent0',
    };
    div.innerHTML =
      `<h4>${esc(t('legend.coverage'))}</h4>` +
      COVERAGE_ORDER.map((c) => item(box(COVERAGE_COLORS[c]), t(classLabel[c]))).join('') +
      `<div class="sep"></div><h4>${esc(t('legend.projects'))}</h4>` +
      Object.keys(STATUS_COLORS).map((s) => item(dot(STATUS_COLORS[s]), t(`status.${s}` as MessageKey))).join('') +
      Object.keys(FUNDING_COLORS).map((s) => item(ring(FUNDING_COLORS[s]), t(`funding.${s}` as MessageKey))).join('') +
      '<div class="sep"></div>' +
      item(dot(VENUE_COLOR), t('legend.venue')) +
      item(line(DISTRICT_COLOR, true), t('legend.district')) +
      item(line(TRACK_COLORS[1]), t('legend.track')) +
      item(line(ROUTE_COLOR), t('legend.route'));
  }
}
