// The coverage cells of the map: every resolution-10 cell of the district
// at every zoom, drawn from the server's vector tiles (coverage-tile-layer.ts)
// in their own pane, above our roads and below the boundaries and works.
// Keeps the layer's note and the counts of the cells in view, asks the
// tiles again when the time window changes, and shows the patrol state of
// the cell under a click on the map.

import L from 'leaflet';
import type { App } from '../app';
import { isNotAvailable, offers } from '../api';
import { t, type MessageKey } from '../i18n';
import { coverageClass, type CoverageProps } from '../colors';
import { CoverageTileLayer } from '../coverage-tile-layer';
import { cellFeature } from '../coverage-tiles';
import { gcj02ToWgs84, wgs84ToGcj02 } from '../gcj02';
import { h } from '../util';

/** The resolution the tiles hold (visits are kept at resolution 10). */
const RES = 10;
const TILES = '/api/v1/tiles/{layer}/{z}/{x}/{y}';

type Note = { key?: MessageKey; text?: string; na?: boolean; params?: Record<string, string | number>; tip?: { key: MessageKey; params: Record<string, string | number> } };

/** Where the cells report to the panel. */
export interface CellsHost {
  setNote(layer: string, state: Note): void;
}

export class CoverageCells {
  private readonly app: App;
  private readonly mapEl: HTMLElement;
  private readonly host: CellsHost;
  private layer: CoverageTileLayer | null = null;
  private stats: { key: MessageKey; params?: Record<string, string | number> } | null = null;
  private failedOnce = false;
  /** The paragraph of the panel that says how many cells are in view. */
  statsEl: HTMLElement | null = null;

  constructor(app: App, mapEl: HTMLElement, host: CellsHost) {
    this.app = app;
    this.mapEl = mapEl;
    this.host = host;
  }

  /** Adds the tile layer (once the map has its first view). */
  start(): void {
    if (!offers(TILES)) {
      this.stats = { key: 'common.not_available_long' };
      this.host.setNote('coverage', { key: 'common.not_available', na: true });
      this.renderStats();
      return;
    }
    const mv = this.app.mapView;
    const pane = mv.map.createPane('coverageTiles');
    // Above our roads (250), below the boundaries, works and labels (400 on); clicks go to the map.
    pane.style.zIndex = '300';
    pane.style.pointerEvents = 'none';
    const gcj = mv.config.gcj02;
    const layer = new CoverageTileLayer({
      pane: 'coverageTiles',
      window: this.app.windowParams(),
      maxZoom: mv.map.getMaxZoom(),
      shift: gcj ? wgs84ToGcj02 : undefined,
      unshift: gcj ? gcj02ToWgs84 : undefined,
    });
    layer.on('loading', () => {
      this.failedOnce = false;
      this.host.setNote('coverage', { key: 'common.loading' });
    });
    layer.on('load', () => {
      this.update();
      // Tests wait for the tiles of a zoom to be drawn.
      this.mapEl.dataset.cellsZoom = String(mv.map.getZoom());
    });
    layer.on('tileerror', (e: L.TileErrorEvent) => this.failed(e.error));
    mv.map.on('moveend', () => {
      if (mv.map.hasLayer(layer)) this.update();
    });
    this.layer = layer;
    mv.set('coverage', layer);
  }

  /** The window changed: the tiles are asked again. */
  setWindow(): void {
    this.layer?.setWindow(this.app.windowParams());
  }

  private failed(e: unknown): void {
    if (this.failedOnce) return;
    this.failedOnce = true;
    if (isNotAvailable(e)) this.host.setNote('coverage', { key: 'common.not_available', na: true });
    else {
      this.host.setNote('coverage', { key: 'common.error', na: true });
      this.app.toast(this.app.errorText(e));
    }
  }

  /** Counts the cells in view, for the panel and the tests. */
  private update(): void {
    const layer = this.layer;
    if (!layer) return;
    const now = new Date();
    const cells = layer.cellsInView();
    let patrolled = 0;
    let overdue = 0;
    for (const c of cells) {
      const cls = coverageClass(c.props as CoverageProps, now);
      if (cls !== 'never') patrolled++;
      if (cls === 'overdue') overdue++;
    }
    this.mapEl.dataset.cellsCount = String(cells.length);
    this.mapEl.dataset.cellsRes = String(RES);
    this.stats = { key: 'coverage.stats_view', params: { cells: cells.length, patrolled, overdue } };
    if (!this.failedOnce) this.host.setNote('coverage', { key: 'coverage.res', params: { n: RES }, tip: { key: 'coverage.res_tip', params: { n: RES } } });
    this.renderStats();
  }

  renderStats(): void {
    if (!this.statsEl) return;
    this.statsEl.replaceChildren(h('span', { text: this.stats ? t(this.stats.key, this.stats.params) : '' }));
  }

  /** A click on the map (no other layer took it): the cell under it, if one is drawn. */
  clickAt(ll: L.LatLng): void {
    const layer = this.layer;
    if (!layer || !this.app.mapView.map.hasLayer(layer)) return;
    const cell = layer.cellAt(ll);
    if (cell) void this.app.showDetails('cell', cellFeature(cell));
  }
}
