// The coverage map: boundaries, the resolution-10 H3 cells coloured by
// days since the last patrol (from vector tiles, at every zoom), works,
// venues, commercial districts and the tracks of a day, with layer
// switches, a time window and a details panel. This file holds the panel;
// the cells are in coverage-cells.ts, the other layers in map-layers.ts,
// the legend in coverage-legend.ts.

import L from 'leaflet';
import type { App } from '../app';
import { isNotAvailable } from '../api';
import { t, applyI18n, onLangChange, type MessageKey } from '../i18n';
import { COVERAGE_COLORS, DISTRICT_COLOR, FUNDING_COLORS, GRID_COLOR, STATUS_COLORS, TOWN_COLOR, TRACK_COLORS, VENUE_COLOR, ZONE_COLOR } from '../colors';
import { addDays, h, isoDate } from '../util';
import { CoverageCells } from './coverage-cells';
import { addLegend, renderLegend } from './coverage-legend';
import { MapLayers } from './map-layers';

export { labelPoint, loadAll, loadGrids } from './map-layers';

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

/** The area of an H3 cell at Songjiang's latitude, in hectares (a resolution is 7× finer than the one before). */
function cellArea(res: number): string {
  const ha = 1.15 * 7 ** (10 - res);
  const n = ha >= 10 ? Math.round(ha) : Math.round(ha * 100) / 100;
  return t('unit.ha', { n });
}

export class CoverageView {
  private readonly app: App;
  readonly panel: HTMLElement;
  readonly mapEl: HTMLElement;
  private notes = new Map<string, HTMLElement>();
  private readonly layers: MapLayers;
  private cells: CoverageCells;

  constructor(app: App, panel: HTMLElement, mapEl: HTMLElement) {
    this.app = app;
    this.panel = panel;
    this.mapEl = mapEl;
    this.layers = new MapLayers(app, this);
    this.cells = new CoverageCells(app, mapEl, this);
  }

  async init(): Promise<void> {
    this.renderPanel();
    addLegend(this.app.mapView.map);
    const map = this.app.mapView.map;
    map.on('zoomend', () => {
      this.applyZoomVisibility();
      this.layers.applyMarkerSizes();
    });
    map.on('click', (ev: L.LeafletMouseEvent) => {
      if (!this.layers.clickTaken()) this.cells.clickAt(ev.latlng);
    });
    this.app.onWindowChange(() => {
      this.syncWindowInputs();
      this.cells.setWindow();
    });
    onLangChange(() => {
      renderLegend();
      this.refreshNotes();
    });
    // Towns first: they frame the map; the cells and the rest load alongside.
    await this.layers.loadTowns();
    this.cells.start();
    const l = this.layers;
    await Promise.all([l.loadDistricts(), l.loadVenues(), l.loadProjects(), l.loadZones(), l.loadTracks()]);
    this.applyZoomVisibility();
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
    this.cells.statsEl = p.querySelector('#coverage-stats');
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
      this.layers.projectFilter.status = status.value;
      void this.layers.loadProjects();
    });
    funding.addEventListener('change', () => {
      this.layers.projectFilter.funding = funding.value;
      void this.layers.loadProjects();
    });
    const day = p.querySelector('#track-day') as HTMLInputElement;
    day.value = this.layers.trackDay;
    day.addEventListener('change', () => {
      if (!day.value) return;
      this.layers.trackDay = day.value;
      this.layers.trackDayChosen = true;
      void this.layers.loadTracks();
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

  setNote(
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
    this.cells.renderStats();
  }

  applyZoomVisibility(): void {
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
      if (def.key === 'grids' && show) void this.layers.loadGridLayer();
    }
  }

  private counts = new Map<string, string>();
  setCount(layer: string, n: number): void {
    this.counts.set(layer, String(n));
    this.mapEl.dataset[`${layer}Count`] = String(n);
    const st = this.noteState.get(layer);
    if (st?.key !== 'layers.zoom_in') this.setNote(layer, { text: String(n) });
  }

  failed(layer: string, e: unknown): void {
    if (isNotAvailable(e)) this.setNote(layer, { key: 'common.not_available', na: true });
    else {
      this.setNote(layer, { key: 'common.error', na: true });
      this.app.toast(this.app.errorText(e));
    }
  }
}
