// The layers of the coverage map other than the cells: town boundaries and
// names, zones, grids, commercial districts, crowded venues, works and the
// tracks of a day, each loaded whole from the API and drawn on the shared
// canvas. A click on one of them shows its details; the map's own click
// (a coverage cell) is left alone then ([`MapLayers.clickTaken`]).

import L from 'leaflet';
import type { Feature, FeatureCollection, Geometry } from 'geojson';
import type { App, Props } from '../app';
import { api, offers, withQuery } from '../api';
import type { MessageKey } from '../i18n';
import { DISTRICT_COLOR, FUNDING_COLORS, GRID_COLOR, STATUS_COLORS, TOWN_COLOR, VENUE_COLOR, ZONE_COLOR, officerColor } from '../colors';
import { addDays, addDaysIso, esc, isoDate, setTownNames } from '../util';

type FC = FeatureCollection<Geometry, Props>;
type F = Feature<Geometry, Props>;

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

/** What the layers tell the panel: counts, notes and failures. */
export interface LayerHost {
  readonly panel: HTMLElement;
  readonly mapEl: HTMLElement;
  setCount(layer: string, n: number): void;
  setNote(layer: string, state: { key?: MessageKey; text?: string; na?: boolean; params?: Record<string, string | number> }): void;
  failed(layer: string, e: unknown): void;
  applyZoomVisibility(): void;
}

export class MapLayers {
  private readonly app: App;
  private readonly host: LayerHost;
  projectFilter = { status: '', funding: '' };
  trackDay = isoDate(addDays(new Date(), -1));
  trackDayChosen = false;
  private taken = false;

  constructor(app: App, host: LayerHost) {
    this.app = app;
    this.host = host;
    // Layers fire their click before the map does; a new click starts untaken.
    app.mapView.map.on('preclick', () => (this.taken = false));
  }

  /** Whether a layer of ours handled the map's current click. */
  clickTaken(): boolean {
    return this.taken;
  }

  private take(show: () => Promise<void>): void {
    this.taken = true;
    void show();
  }

  /** Smaller markers when the whole district is in view, so works do not hide the cells. */
  markerSize(): { project: number; venue: number; weight: number } {
    const z = this.app.mapView.map.getZoom();
    if (z < 11.5) return { project: 3.5, venue: 3.5, weight: 1.5 };
    if (z < 13.5) return { project: 5, venue: 4.5, weight: 2 };
    return { project: 7, venue: 6, weight: 2.5 };
  }

  applyMarkerSizes(): void {
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

  async loadTowns(): Promise<void> {
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
      mv.set('towns', outline);
      mv.set('labels', labels);
      const b = outline.getBounds();
      // Leave room for the legend in the lower left; on a phone (style.css) it starts folded.
      const left = window.matchMedia('(max-width: 720px)').matches ? 10 : 190;
      if (b.isValid()) mv.map.fitBounds(b, { paddingTopLeft: [left, 10], paddingBottomRight: [10, 10] });
      this.host.setCount('towns', fc.features.length);
    } catch (e) {
      this.host.failed('towns', e);
    }
  }

  async loadZones(): Promise<void> {
    const mv = this.app.mapView;
    try {
      const fc = await loadAll('/api/v1/zones');
      mv.set(
        'zones',
        mv.geo(fc, { interactive: false, style: () => ({ color: ZONE_COLOR, weight: 1.4, opacity: 0.8, dashArray: '6 4', fill: false, renderer: mv.renderer }) }),
      );
      this.host.setCount('zones', fc.features.length);
    } catch (e) {
      this.host.failed('zones', e);
    }
  }

  private gridLayerLoaded = false;
  async loadGridLayer(): Promise<void> {
    if (this.gridLayerLoaded) return;
    this.gridLayerLoaded = true;
    const mv = this.app.mapView;
    try {
      const fc = await loadGrids();
      mv.set('grids', mv.geo(fc, { interactive: false, style: () => ({ color: GRID_COLOR, weight: 0.8, opacity: 0.9, fill: false, renderer: mv.renderer }) }));
      this.host.setCount('grids', fc.features.length);
      this.host.applyZoomVisibility();
    } catch (e) {
      this.host.failed('grids', e);
    }
  }

  async loadDistricts(): Promise<void> {
    const mv = this.app.mapView;
    try {
      const fc = await loadAll('/api/v1/districts');
      // The faint fill lies under the coverage cells (their pane is 300), as it did on the shared canvas.
      if (!mv.map.getPane('districtFill')) mv.map.createPane('districtFill').style.zIndex = '290';
      const under = L.canvas({ pane: 'districtFill', padding: 0.3 });
      mv.set('districtFill', mv.geo(fc, { interactive: false, style: () => ({ stroke: false, fillColor: DISTRICT_COLOR, fillOpacity: 0.07, renderer: under }) }));
      const group = L.featureGroup();
      for (const f of fc.features) {
        const outline = mv.geo(f, {
          style: () => ({ color: DISTRICT_COLOR, weight: 2.5, opacity: 0.9, dashArray: '8 5', fill: false, renderer: mv.renderer }),
        });
        outline.on('click', () => this.take(() => this.app.showDetails('district', f)));
        group.addLayer(outline);
        // The name sits on the district's north edge, clear of the town names.
        const bounds = outline.getBounds();
        if (bounds.isValid()) {
          const label = L.marker(L.latLng(bounds.getNorth(), bounds.getCenter().lng), {
            icon: L.divIcon({ className: 'district-label', html: `${esc(f.properties.name)}`, iconSize: undefined }),
            keyboard: false,
          });
          label.on('click', () => this.take(() => this.app.showDetails('district', f)));
          (label as unknown as { feature: F }).feature = f;
          group.addLayer(label);
        }
      }
      mv.set('districts', group);
      this.host.setCount('districts', fc.features.length);
    } catch (e) {
      this.host.failed('districts', e);
    }
  }

  async loadVenues(): Promise<void> {
    const mv = this.app.mapView;
    try {
      const fc = await loadAll('/api/v1/venues');
      const layer = mv.geo(fc, {
        style: () => ({ color: VENUE_COLOR, weight: 2, fillColor: VENUE_COLOR, fillOpacity: 0.25, renderer: mv.renderer }),
        pointToLayer: (_f, ll) =>
          L.circleMarker(ll, { radius: this.markerSize().venue, color: '#fff', weight: 1.5, fillColor: VENUE_COLOR, fillOpacity: 0.95, renderer: mv.renderer }),
      });
      layer.on('click', (ev) => this.take(() => this.app.showDetails('venue', (ev.propagatedFrom as { feature: F }).feature)));
      mv.set('venues', layer);
      this.host.setCount('venues', fc.features.length);
    } catch (e) {
      this.host.failed('venues', e);
    }
  }

  async loadProjects(): Promise<void> {
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
      layer.on('click', (ev) => this.take(() => this.app.showDetails('project', (ev.propagatedFrom as { feature: F }).feature)));
      mv.set('projects', layer);
      this.host.setCount('projects', fc.features.length);
    } catch (e) {
      this.host.failed('projects', e);
    }
  }


  /** The day of the latest track (tracks are listed oldest first). */
  private async latestTrackDay(): Promise<string | null> {
    const head = await api<FC & { numberMatched?: number }>('/api/v1/tracks?limit=1');
    const n = head.numberMatched ?? head.features.length;
    if (n === 0) return null;
    const last = n > 1 ? await api<FC>(`/api/v1/tracks?limit=1&offset=${n - 1}`) : head;
    const started = last.features[0]?.properties.started_at;
    return typeof started === 'string' ? isoDate(new Date(started)) : null;
  }

  async loadTracks(): Promise<void> {
    const mv = this.app.mapView;
    if (!offers('/api/v1/tracks')) {
      this.host.setNote('tracks', { key: 'common.not_available', na: true });
      return;
    }
    try {
      if (!this.trackDayChosen) {
        this.trackDayChosen = true;
        const latest = await this.latestTrackDay();
        if (latest && latest < this.trackDay) {
          this.trackDay = latest;
          const input = this.host.panel.querySelector('#track-day') as HTMLInputElement | null;
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
      line.on('click', (ev) => this.take(() => this.app.showDetails('track', (ev.propagatedFrom as { feature: F }).feature)));
      mv.set('tracks', L.featureGroup([casing, line]));
      this.host.setNote('tracks', { key: 'tracks.count', params: { n: fc.features.length } });
      this.host.mapEl.dataset.tracksCount = String(fc.features.length);
    } catch (e) {
      this.host.failed('tracks', e);
    }
  }
}
