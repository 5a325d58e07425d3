// Street context without the internet: when no tile source is configured,
// the map draws our own road network under the hexagons at street zoom
// (lines by class, from /api/v1/basemap/roads for the box in view) and
// labels places from the data we have — grid names, bus stops (most named
// after their crossroads, from /api/v1/basemap/places), crowded venues and
// works. A configured tile source (Tianditu, Amap) replaces the roads and the
// stops, which its own tiles name; the labels of our data stay.

import L from 'leaflet';
import type { Feature, FeatureCollection, Geometry } from 'geojson';
import { api, offers, withQuery } from './api';
import type { Props } from './app';
import type { MapView } from './map';
import { esc } from './util';
import { labelPoint, loadAll, loadGrids } from './views/coverage';

type FC = FeatureCollection<Geometry, Props>;

/** Roads from this zoom on (a box of at most 0.12°, the endpoint's limit). */
export const ROAD_ZOOM = 14;
/** Place labels from this zoom on; works' names from WORK_LABEL_ZOOM. */
export const LABEL_ZOOM = 15;
export const WORK_LABEL_ZOOM = 17;
/** Grid names from this zoom on. */
export const GRID_LABEL_ZOOM = 14;
const MAX_SPAN = 0.12;

/** How each class of road is drawn: a casing under a fill. */
const ROAD_STYLE: Record<string, { casing: string; fill: string; width: number }> = {
  main: { casing: '#b9bec6', fill: '#ffffff', width: 5 },
  minor: { casing: '#cfd3d8', fill: '#fbfbfb', width: 2.5 },
};

export interface PlaceLabel {
  text: string;
  lon: number;
  lat: number;
  /** Lower draws first and wins a collision. */
  rank: number;
  kind: 'grid' | 'stop' | 'venue' | 'work' | 'district';
  minZoom: number;
}

/** A box around the view, no wider than the endpoint accepts. */
export function roadBox(west: number, south: number, east: number, north: number): [number, number, number, number] {
  const cx = (west + east) / 2;
  const cy = (south + north) / 2;
  const hw = Math.min(MAX_SPAN, (east - west) * 1.3) / 2;
  const hh = Math.min(MAX_SPAN, (north - south) * 1.3) / 2;
  // Rounded outwards to 0.01°, so that small pans reuse the answer.
  const r = (v: number, up: boolean) => (up ? Math.ceil(v * 100) : Math.floor(v * 100)) / 100;
  let box: [number, number, number, number] = [r(cx - hw, false), r(cy - hh, false), r(cx + hw, true), r(cy + hh, true)];
  // Rounding may widen a box past the limit: shrink it back symmetrically.
  if (box[2] - box[0] > MAX_SPAN) box = [box[0] + 0.005, box[1], box[2] - 0.005, box[3]];
  if (box[3] - box[1] > MAX_SPAN) box = [box[0], box[1] + 0.005, box[2], box[3] - 0.005];
  return box.map((v) => Math.round(v * 1000) / 1000) as [number, number, number, number];
}

/**
 * Keeps the labels that do not overlap a better one, in rank order, given
 * each label's box in screen pixels.
 */
export function declutter<T extends { rank: number }>(items: Array<T & { x: number; y: number; w: number; h: number }>): T[] {
  const kept: Array<{ x: number; y: number; w: number; h: number }> = [];
  const out: T[] = [];
  for (const it of [...items].sort((a, b) => a.rank - b.rank)) {
    const hit = kept.some((k) => Math.abs(k.x - it.x) * 2 < k.w + it.w && Math.abs(k.y - it.y) * 2 < k.h + it.h);
    if (!hit) {
      kept.push(it);
      out.push(it);
    }
  }
  return out;
}

export class BaseMap {
  private readonly mv: MapView;
  private readonly mapEl: HTMLElement;
  private readonly roadRenderer: L.Canvas;
  private readonly roadLayer = L.layerGroup();
  private readonly labelLayer = L.layerGroup();
  private roadKey = '';
  private roadCache = new Map<string, FC>();
  private abort: AbortController | null = null;
  private places: PlaceLabel[] = [];
  private stops: PlaceLabel[] = [];
  private stopKey = '';
  private timer = 0;

  constructor(mv: MapView, mapEl: HTMLElement) {
    this.mv = mv;
    this.mapEl = mapEl;
    const map = mv.map;
    // Own panes: roads under the hexagons (overlayPane is 400), labels above them, below the markers.
    map.createPane('basemap').style.zIndex = '250';
    const labels = map.createPane('placelabels');
    labels.style.zIndex = '450';
    labels.style.pointerEvents = 'none';
    this.roadRenderer = L.canvas({ pane: 'basemap', padding: 0.2 });
    this.roadLayer.addTo(map);
    this.labelLayer.addTo(map);
  }

  /** Starts following the view; `places` are the labels the data gives. */
  init(): void {
    const map = this.mv.map;
    const schedule = () => {
      window.clearTimeout(this.timer);
      this.timer = window.setTimeout(() => this.refresh(), 150);
    };
    map.on('moveend zoomend', schedule);
    this.mapEl.dataset.basemap = this.mv.config.tiles ? 'tiles' : 'roads';
    this.refresh();
  }

  setPlaces(places: PlaceLabel[]): void {
    this.places = places;
    this.drawLabels();
  }

  private refresh(): void {
    void this.loadRoads();
    void this.loadStops();
    this.drawLabels();
  }

  /** The bus stops of the box in view, as labels at street zoom. */
  private async loadStops(): Promise<void> {
    const map = this.mv.map;
    if (this.mv.config.tiles || !offers('/api/v1/basemap/places') || map.getZoom() < LABEL_ZOOM) return;
    const b = map.getBounds();
    const key = roadBox(b.getWest(), b.getSouth(), b.getEast(), b.getNorth()).join(',');
    if (key === this.stopKey) return;
    this.stopKey = key;
    try {
      const fc = await api<FC>(withQuery('/api/v1/basemap/places', { bbox: key }));
      if (key !== this.stopKey) return;
      this.stops = fc.features
        .filter((f) => f.geometry?.type === 'Point' && typeof f.properties.name === 'string')
        .map((f) => {
          const [lon, lat] = (f.geometry as { coordinates: number[] }).coordinates;
          return { text: String(f.properties.name), lon, lat, rank: 1, kind: 'stop' as const, minZoom: LABEL_ZOOM };
        });
      this.drawLabels();
    } catch {
      // No stops: the other labels stay.
    }
  }

  private async loadRoads(): Promise<void> {
    const map = this.mv.map;
    if (this.mv.config.tiles || !offers('/api/v1/basemap/roads')) return;
    if (map.getZoom() < ROAD_ZOOM) {
      this.roadLayer.clearLayers();
      this.roadKey = '';
      this.mapEl.dataset.roadsCount = '0';
      return;
    }
    const b = map.getBounds();
    const box = roadBox(b.getWest(), b.getSouth(), b.getEast(), b.getNorth());
    const key = box.join(',');
    if (key === this.roadKey) return;
    this.abort?.abort();
    const abort = new AbortController();
    this.abort = abort;
    try {
      let fc = this.roadCache.get(key);
      if (!fc) {
        fc = await api<FC>(withQuery('/api/v1/basemap/roads', { bbox: key }), { signal: abort.signal });
        if (this.roadCache.size > 16) this.roadCache.clear();
        this.roadCache.set(key, fc);
      }
      if (abort.signal.aborted) return;
      this.drawRoads(fc);
      this.roadKey = key;
    } catch {
      // No roads: the hexagons stay on the plain background.
    }
  }

  private drawRoads(fc: FC): void {
    this.roadLayer.clearLayers();
    // Casings of every class first, then the fills: crossings stay clean.
    for (const part of ['casing', 'fill'] as const) {
      for (const cls of ['minor', 'main']) {
        const s = ROAD_STYLE[cls];
        const features = fc.features.filter((f) => (f.properties.class ?? 'minor') === cls);
        if (features.length === 0) continue;
        this.roadLayer.addLayer(
          this.mv.geo({ type: 'FeatureCollection', features } as FC, {
            interactive: false,
            style: () => ({
              color: part === 'casing' ? s.casing : s.fill,
              weight: part === 'casing' ? s.width + 2 : s.width,
              opacity: 1,
              lineCap: 'round',
              lineJoin: 'round',
              renderer: this.roadRenderer,
            }),
          }),
        );
      }
    }
    this.mapEl.dataset.roadsCount = String(fc.features.length);
  }

  private drawLabels(): void {
    const map = this.mv.map;
    const z = map.getZoom();
    this.labelLayer.clearLayers();
    const view = map.getBounds().pad(0.1);
    const candidates = [...this.places, ...this.stops]
      .filter((p) => z >= p.minZoom)
      .map((p) => ({ ...p, ll: this.mv.toLatLng(p.lon, p.lat) }))
      .filter((p) => view.contains(p.ll))
      .map((p) => {
        const pt = map.latLngToContainerPoint(p.ll);
        // CJK text at 12 px: about 12 px a character, a little air around.
        return { ...p, x: pt.x, y: pt.y, w: [...p.text].length * 12 + 8, h: 18 };
      });
    const kept = declutter(candidates).slice(0, 250);
    for (const p of kept) {
      this.labelLayer.addLayer(
        L.marker(p.ll, {
          pane: 'placelabels',
          interactive: false,
          keyboard: false,
          icon: L.divIcon({ className: `place-label place-${p.kind}`, html: `<span>${esc(p.text)}</span>`, iconSize: [0, 0] }),
        }),
      );
    }
    this.mapEl.dataset.placeLabels = String(kept.length);
    this.mapEl.dataset.stopLabels = String(kept.filter((p) => p.kind === 'stop').length);
  }
}

/** The labels of the data: grid names at their centre, venues and works (by name). */
export function placesOf(layers: { grids?: FC; venues?: FC; projects?: FC }, labelPoint: (g: Geometry) => [number, number] | null): PlaceLabel[] {
  const out: PlaceLabel[] = [];
  const add = (fc: FC | undefined, kind: PlaceLabel['kind'], rank: number, minZoom: number, text: (f: Feature<Geometry, Props>) => unknown) => {
    for (const f of fc?.features ?? []) {
      if (!f.geometry) continue;
      const at = f.geometry.type === 'Point' ? [f.geometry.coordinates[0], f.geometry.coordinates[1]] : labelPoint(f.geometry);
      const name = text(f);
      if (!at || typeof name !== 'string' || !name) continue;
      out.push({ text: name, lon: at[0], lat: at[1], rank, kind, minZoom });
    }
  };
  add(layers.grids, 'grid', 0, GRID_LABEL_ZOOM, (f) => f.properties.name);
  add(layers.venues, 'venue', 2, LABEL_ZOOM, (f) => f.properties.name);
  add(layers.projects, 'work', 3, WORK_LABEL_ZOOM, (f) => f.properties.name);
  return out;
}

/** Loads the labelled layers (the grids are shared with the coverage view) and hands their places to the base map. */
export async function loadPlaces(base: BaseMap): Promise<void> {
  const [grids, venues, projects] = await Promise.all([
    loadGrids().catch(() => undefined),
    loadAll('/api/v1/venues').catch(() => undefined),
    loadAll('/api/v1/projects').catch(() => undefined),
  ]);
  base.setPlaces(placesOf({ grids, venues, projects }, labelPoint));
}
