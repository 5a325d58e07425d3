// Find my grid: one search box on the map for grids, zones, towns, their
// managers and works, which zooms the map to what was picked; and a grid
// manager's (or town's) map opens on their own area.

import L from 'leaflet';
import type { Feature, Geometry } from 'geojson';
import type { App, Props } from './app';
import { t, onLangChange, type MessageKey } from './i18n';
import { h, townName } from './util';
import { loadAll, loadGrids } from './views/coverage';

type F = Feature<Geometry, Props>;

export type EntryKind = 'grid' | 'zone' | 'town' | 'work';

export interface Entry {
  kind: EntryKind;
  /** What the list shows. */
  name: string;
  /** A second line: the manager, the town. */
  sub: string;
  /** The texts a query is matched against. */
  keys: string[];
  geometry: Geometry | null;
  /** Grids of a zone without its own outline. */
  codes?: string[];
}

const KIND_ORDER: EntryKind[] = ['grid', 'zone', 'town', 'work'];

/** How well `q` matches an entry: 0 best, Infinity no match. */
export function score(e: Entry, q: string): number {
  const needle = q.trim().toLowerCase();
  if (!needle) return Infinity;
  let best = Infinity;
  e.keys.forEach((k, i) => {
    const hay = k.toLowerCase();
    // the first key is the name: a match there beats one on the manager
    const pos = hay === needle ? 0 : hay.startsWith(needle) ? 1 : hay.includes(needle) ? 2 : Infinity;
    best = Math.min(best, pos + (i === 0 ? 0 : 0.5));
  });
  return best === Infinity ? best : best * 10 + KIND_ORDER.indexOf(e.kind);
}

/** The best entries for a query, at most `limit`. */
export function search(entries: Entry[], q: string, limit = 12): Entry[] {
  return entries
    .map((e) => ({ e, s: score(e, q) }))
    .filter((x) => Number.isFinite(x.s))
    .sort((a, b) => a.s - b.s || a.e.name.localeCompare(b.e.name, 'zh-CN'))
    .slice(0, limit)
    .map((x) => x.e);
}

/** The searchable entries of the layers. */
export function entriesOf(layers: { grids: F[]; zones: F[]; towns: F[]; works: F[] }): Entry[] {
  const s = (v: unknown) => (v === undefined || v === null ? '' : String(v));
  const out: Entry[] = [];
  const zoneNames = new Map(layers.zones.map((z) => [s(z.properties.code), s(z.properties.name)]));
  for (const g of layers.grids) {
    const p = g.properties;
    out.push({
      kind: 'grid',
      name: s(p.name),
      sub: [s(p.manager), zoneNames.get(s(p.zone)) ?? ''].filter(Boolean).join(' · '),
      keys: [s(p.name), s(p.manager), s(p.code)],
      geometry: g.geometry,
    });
  }
  for (const z of layers.zones) {
    const p = z.properties;
    const grids = layers.grids.filter((g) => s(g.properties.zone) === s(p.code));
    out.push({
      kind: 'zone',
      name: s(p.name),
      sub: [s(p.manager), townName(p.town)].filter(Boolean).join(' · '),
      keys: [s(p.name), s(p.manager), s(p.code)],
      geometry: z.geometry ?? unionOf(grids),
    });
  }
  for (const tw of layers.towns) {
    const p = tw.properties;
    out.push({ kind: 'town', name: s(p.name), sub: s(p.code), keys: [s(p.name), s(p.code)], geometry: tw.geometry });
  }
  for (const w of layers.works) {
    const p = w.properties;
    out.push({
      kind: 'work',
      name: s(p.name),
      sub: [s(p.address), townName(p.town)].filter(Boolean).join(' · '),
      keys: [s(p.name), s(p.code), s(p.address)],
      geometry: w.geometry,
    });
  }
  return out;
}

/** A MultiPolygon of some (multi)polygons, for a zone without an outline. */
function unionOf(features: F[]): Geometry | null {
  const polys: number[][][][] = [];
  for (const f of features) {
    if (f.geometry?.type === 'Polygon') polys.push(f.geometry.coordinates);
    if (f.geometry?.type === 'MultiPolygon') polys.push(...f.geometry.coordinates);
  }
  return polys.length ? { type: 'MultiPolygon', coordinates: polys } : null;
}

export class SearchBox {
  private readonly app: App;
  private entries: Entry[] = [];
  private input!: HTMLInputElement;
  private list!: HTMLUListElement;
  private results: Entry[] = [];

  constructor(app: App) {
    this.app = app;
  }

  /** Adds the box to the map (top right) and loads what it searches. */
  async init(): Promise<void> {
    const Box = L.Control.extend({
      options: { position: 'topright' },
      onAdd: () => {
        const div = L.DomUtil.create('div', 'search-box');
        div.id = 'search';
        L.DomEvent.disableClickPropagation(div);
        L.DomEvent.disableScrollPropagation(div);
        this.input = h('input', { type: 'search', id: 'search-input', autocomplete: 'off', spellcheck: 'false' });
        this.list = h('ul', { id: 'search-results', class: 'search-results' });
        div.append(this.input, this.list);
        return div;
      },
    });
    new Box().addTo(this.app.mapView.map);
    const placeholder = () => {
      this.input.placeholder = t('search.placeholder');
      this.input.setAttribute('aria-label', t('search.placeholder'));
      this.render();
    };
    placeholder();
    onLangChange(placeholder);
    this.input.addEventListener('input', () => {
      this.results = search(this.entries, this.input.value);
      this.render();
    });
    this.input.addEventListener('keydown', (ev) => {
      if (ev.key === 'Enter' && this.results[0]) this.pick(this.results[0]);
      if (ev.key === 'Escape') this.clear();
    });
    const [grids, zones, works] = await Promise.all([
      loadGrids().catch(() => null),
      loadAll('/api/v1/zones').catch(() => null),
      loadAll('/api/v1/projects').catch(() => null),
    ]);
    this.entries = entriesOf({
      grids: grids?.features ?? [],
      zones: zones?.features ?? [],
      towns: this.app.towns,
      works: works?.features ?? [],
    });
    this.input.dataset.ready = 'true';
  }

  private clear(): void {
    this.input.value = '';
    this.results = [];
    this.render();
  }

  private render(): void {
    if (!this.list) return;
    this.list.replaceChildren(
      ...this.results.map((e) => {
        const li = h(
          'li',
          { 'data-kind': e.kind },
          h('span', { class: 'kind', text: t(`search.kind.${e.kind}` as MessageKey) }),
          h('span', { class: 'name', text: e.name }),
          e.sub ? h('span', { class: 'sub', text: e.sub }) : null,
        );
        li.addEventListener('click', () => this.pick(e));
        return li;
      }),
    );
    if (this.input.value.trim() && this.results.length === 0) this.list.append(h('li', { class: 'muted', text: t('common.empty') }));
  }

  private pick(e: Entry): void {
    if (!e.geometry) return;
    this.app.mapView.zoomTo(e.geometry, e.kind === 'work' ? 17 : 16);
    this.app.mapView.highlight(e.geometry);
    this.app.mapView.map.getContainer().dataset.searched = `${e.kind}:${e.name}`;
    this.results = [];
    this.render();
    this.input.value = e.name;
  }
}

/**
 * Opens the map on the caller's own area: a grid manager's grids, a town
 * user's towns. The district's users keep the whole district.
 */
export async function openOnOwnArea(app: App, scope: { kind: string; towns: string[]; zones: string[]; grids: string[] } | null | undefined): Promise<void> {
  if (!scope || scope.kind === 'district') return;
  const mv = app.mapView;
  let geoms: Geometry[] = [];
  if (scope.grids.length || scope.zones.length) {
    const grids = await loadGrids().catch(() => null);
    geoms = (grids?.features ?? [])
      .filter((g) => scope.grids.includes(String(g.properties.code)) || scope.zones.includes(String(g.properties.zone)))
      .map((g) => g.geometry);
  }
  if (geoms.length === 0 && scope.towns.length) {
    geoms = app.towns.filter((tw) => scope.towns.includes(String(tw.properties.code))).map((tw) => tw.geometry);
  }
  const b = L.latLngBounds([]);
  for (const g of geoms) {
    const gb = mv.boundsOf(g);
    if (gb) b.extend(gb);
  }
  if (!b.isValid()) return;
  mv.map.fitBounds(b, { maxZoom: 16, padding: [30, 30] });
  mv.map.getContainer().dataset.ownArea = scope.kind;
}
