// The one Leaflet map all views draw on: a single canvas renderer (no WebGL,
// smooth with thousands of cells), an optional tile base map, and the GCJ-02
// shift for display when that base map needs it.

import L from 'leaflet';
import 'leaflet/dist/leaflet.css';
import type { Geometry, GeoJsonObject, Position } from 'geojson';
import { gcj02ToWgs84, wgs84ToGcj02 } from './gcj02';

export interface UiConfig {
  tiles: string | null;
  gcj02: boolean;
  attribution: string | null;
  max_zoom: number;
  ui_built?: boolean;
}

export const DEFAULT_CONFIG: UiConfig = { tiles: null, gcj02: false, attribution: null, max_zoom: 18 };

/** Songjiang district, for the first view before the towns have loaded. */
const SONGJIANG: L.LatLngBoundsExpression = [
  [30.89, 121.0],
  [31.13, 121.37],
];

/** Draw order, bottom to top. Hit-testing on the canvas picks the topmost. */
// Boundaries sit above the cells (they are outlines only and take no clicks).
const ORDER = ['districtFill', 'coverage', 'grids', 'zones', 'towns', 'districts', 'tracks', 'route', 'venues', 'projects', 'highlight', 'labels'];

export class MapView {
  readonly map: L.Map;
  readonly renderer: L.Canvas;
  readonly config: UiConfig;
  private readonly groups = new Map<string, L.Layer>();
  private readonly visible = new Map<string, boolean>();

  constructor(el: HTMLElement, config: UiConfig) {
    this.config = config;
    this.renderer = L.canvas({ padding: 0.3, tolerance: 4 });
    this.map = L.map(el, {
      preferCanvas: true,
      renderer: this.renderer,
      zoomControl: true,
      attributionControl: true,
      minZoom: 8,
      maxZoom: config.max_zoom || 18,
      zoomSnap: 0.5,
    });
    this.map.attributionControl.setPrefix(false);
    if (config.tiles) {
      // A tile that fails (no network, wrong key) leaves the plain background.
      L.tileLayer(config.tiles, {
        maxZoom: config.max_zoom || 18,
        attribution: config.attribution ?? '',
        crossOrigin: false,
      }).addTo(this.map);
    } else {
      el.classList.add('plain-bg');
    }
    this.map.fitBounds(SONGJIANG);
  }

  /** Our WGS-84 [lon, lat] as the map's LatLng (shifted on a GCJ-02 base map). */
  toLatLng(lon: number, lat: number): L.LatLng {
    if (this.config.gcj02) {
      const [x, y] = wgs84ToGcj02(lon, lat);
      return L.latLng(y, x);
    }
    return L.latLng(lat, lon);
  }

  /** A point on the map back to WGS-84 [lon, lat]. */
  fromLatLng(ll: L.LatLng): [number, number] {
    if (this.config.gcj02) return gcj02ToWgs84(ll.lng, ll.lat);
    return [ll.lng, ll.lat];
  }

  /** A GeoJSON layer on the shared canvas, shifted for display when needed. */
  geo(data: GeoJsonObject | GeoJsonObject[] | null, options: L.GeoJSONOptions = {}): L.GeoJSON {
    return L.geoJSON(data as GeoJsonObject, {
      ...options,
      coordsToLatLng: (c) => this.toLatLng(c[0], c[1]),
    });
  }

  boundsOf(geom: Geometry): L.LatLngBounds | null {
    const b = L.latLngBounds([]);
    const walk = (c: unknown): void => {
      if (Array.isArray(c) && typeof c[0] === 'number') {
        const p = c as Position;
        b.extend(this.toLatLng(p[0], p[1]));
      } else if (Array.isArray(c)) {
        c.forEach(walk);
      }
    };
    if (geom.type === 'GeometryCollection') geom.geometries.forEach((g) => walk('coordinates' in g ? g.coordinates : []));
    else walk(geom.coordinates);
    return b.isValid() ? b : null;
  }

  /** Zooms to a geometry (a point gets a street-level view). */
  zoomTo(geom: Geometry, maxZoom = 17): void {
    const b = this.boundsOf(geom);
    if (!b) return;
    if (geom.type === 'Point') this.map.setView(b.getCenter(), Math.min(maxZoom, 17));
    else this.map.fitBounds(b, { maxZoom, padding: [40, 40] });
  }

  /** Sets (or clears) the layer of a named group; it shows when the group is visible. */
  set(name: string, layer: L.Layer | null): void {
    const old = this.groups.get(name);
    if (old) this.map.removeLayer(old);
    if (layer) this.groups.set(name, layer);
    else this.groups.delete(name);
    if (layer && this.visible.get(name) !== false) layer.addTo(this.map);
    this.restack();
  }

  get(name: string): L.Layer | undefined {
    return this.groups.get(name);
  }

  setVisible(name: string, on: boolean): void {
    this.visible.set(name, on);
    const layer = this.groups.get(name);
    if (!layer) return;
    if (on && !this.map.hasLayer(layer)) layer.addTo(this.map);
    if (!on && this.map.hasLayer(layer)) this.map.removeLayer(layer);
    this.restack();
  }

  isVisible(name: string): boolean {
    return this.visible.get(name) !== false;
  }

  /** Keeps the canvas draw order (and so click priority) fixed whatever was added last. */
  restack(): void {
    for (const name of ORDER) {
      const layer = this.groups.get(name) as (L.Layer & { bringToFront?: () => void }) | undefined;
      if (layer && this.map.hasLayer(layer) && layer.bringToFront) layer.bringToFront();
    }
  }

  /** Outlines a geometry on top of everything, replacing the previous highlight. */
  highlight(geom: Geometry | null): void {
    if (!geom) {
      this.set('highlight', null);
      return;
    }
    const layer = this.geo(geom as GeoJsonObject, {
      interactive: false,
      style: () => ({ color: '#00e5ff', weight: 4, opacity: 1, fill: false, renderer: this.renderer }),
      pointToLayer: (_f, ll) =>
        L.circleMarker(ll, { radius: 12, color: '#00b8d4', weight: 4, fill: false, interactive: false, renderer: this.renderer }),
    });
    this.set('highlight', layer);
  }
}
