// The coverage cells as a Leaflet tile layer: every resolution-10 cell of
// the district, at every zoom, from the server's vector tiles
// (`/api/v1/tiles/coverage/{z}/{x}/{y}.mvt?from&to`), drawn on one canvas
// per map tile and coloured as the legend says.
//
// Data tiles are asked with the API's token (api.ts) and kept per time
// window; a change of window asks them again (the server answers 304 for a
// tile whose ETag did not change), and so does a tile older than a minute,
// so that a new track shows without a reload. Above DATA_MAX_ZOOM one data
// tile serves the map tiles inside it (a hexagon is 130 m across; 4096
// units over 1.2 km are precise enough for any zoom).
//
// On a GCJ-02 base map the map tiles are in GCJ-02: each map tile draws
// the data tiles under its WGS-84 box, every vertex shifted for display.

import L from 'leaflet';
import { apiBlob, withQuery } from './api';
import { contains, decodeCells, drawCells, fromWorld, tilesCovering, toWorld, type LonLat, type TileCell } from './coverage-tiles';

/** Data tiles deeper than this are not asked: the one above serves. */
export const DATA_MAX_ZOOM = 15;
/** Hexagons get a white outline from this zoom on (they are 8 px and more). */
const STROKE_ZOOM = 14;
/** A data tile older than this is asked again (a 304 when unchanged). */
const FRESH_MS = 60_000;
/** Data tiles kept (a district-wide view at zoom 12 uses about twenty). */
const KEEP = 256;

interface DataTile {
  at: number;
  cells: Promise<TileCell[]>;
  /** Set once the cells arrived. */
  done?: TileCell[];
}

export interface CoverageTileOptions extends L.GridLayerOptions {
  /** `from`/`to` of the coverage window (API parameters). */
  window: { from: string; to: string };
  /** WGS-84 → display frame (GCJ-02 on a Chinese base map); identity when absent. */
  shift?: (lon: number, lat: number) => LonLat;
  /** Display frame → WGS-84, the inverse of `shift`. */
  unshift?: (lon: number, lat: number) => LonLat;
}

/** A drawn cell as tests and tools find a feature of a layer group: `feature` and `getBounds()`. */
export interface DrawnCell {
  feature: { type: 'Feature'; id: string; properties: Record<string, unknown> };
  getBounds(): L.LatLngBounds;
}

export class CoverageTileLayer extends L.GridLayer {
  declare options: CoverageTileOptions;
  private data = new Map<string, DataTile>();
  /** The data tiles each map tile drew, by the map tile's key. */
  private drawn = new Map<string, string[]>();

  constructor(options: CoverageTileOptions) {
    super({ tileSize: 256, updateWhenZooming: false, keepBuffer: 1, ...options });
    this.on('tileunload', (e: L.TileEvent) => this.drawn.delete(this.keyOf(e.coords)));
  }

  /** A new time window: every tile is asked again. */
  setWindow(window: { from: string; to: string }): void {
    if (window.from === this.options.window.from && window.to === this.options.window.to) return;
    this.options.window = window;
    this.data.clear();
    this.redraw();
  }

  /** Asks the tiles in view again (their ETags say which changed). */
  refresh(): void {
    this.data.clear();
    this.redraw();
  }

  private keyOf(c: L.Coords): string {
    return `${c.z}/${c.x}/${c.y}`;
  }

  private dataTile(z: number, x: number, y: number): DataTile {
    const key = `${z}/${x}/${y}`;
    const now = Date.now();
    const old = this.data.get(key);
    if (old && (now - old.at < FRESH_MS || !old.done)) return old;
    const url = withQuery(`/api/v1/tiles/coverage/${z}/${x}/${y}.mvt`, this.options.window);
    const shift = this.options.shift;
    const entry: DataTile = {
      at: now,
      cells: apiBlob(url)
        .then((b) => b.arrayBuffer())
        .then((buf) => decodeCells(new Uint8Array(buf), z, x, y, shift)),
    };
    entry.cells.then(
      (cells) => (entry.done = cells),
      () => this.data.delete(key),
    );
    this.data.set(key, entry);
    if (this.data.size > KEEP) {
      const oldest = this.data.keys().next().value;
      if (oldest !== undefined) this.data.delete(oldest);
    }
    return entry;
  }

  /** The data tiles under a map tile: its own, or those under its WGS-84 box on a shifted map. */
  private dataTilesFor(c: L.Coords): Array<[number, number, number]> {
    const dz = Math.min(c.z, DATA_MAX_ZOOM);
    const n = 2 ** c.z;
    if (!this.options.unshift) {
      const k = 2 ** (c.z - dz);
      return [[dz, Math.floor(c.x / k), Math.floor(c.y / k)]];
    }
    const [w, nth] = this.options.unshift(...fromWorld(c.x / n, c.y / n));
    const [e, s] = this.options.unshift(...fromWorld((c.x + 1) / n, (c.y + 1) / n));
    return tilesCovering(dz, w, s, e, nth).map(([x, y]) => [dz, x, y]);
  }

  protected override createTile(coords: L.Coords, done: L.DoneCallback): HTMLElement {
    const canvas = L.DomUtil.create('canvas', 'coverage-tile') as HTMLCanvasElement;
    const size = this.getTileSize();
    const ratio = window.devicePixelRatio || 1;
    canvas.width = Math.round(size.x * ratio);
    canvas.height = Math.round(size.y * ratio);
    const parts = this.dataTilesFor(coords);
    const key = this.keyOf(coords);
    Promise.all(parts.map(([z, x, y]) => this.dataTile(z, x, y).cells))
      .then((lists) => {
        const ctx = canvas.getContext('2d');
        if (!ctx) throw new Error('no 2D canvas');
        const n = 2 ** coords.z;
        const scale = size.x * n * ratio;
        // A cell that crosses a data tile's edge is in both: draw it once.
        const seen = new Set<string>();
        const cells: TileCell[] = [];
        const x0 = coords.x / n;
        const y0 = coords.y / n;
        const x1 = (coords.x + 1) / n;
        const y1 = (coords.y + 1) / n;
        for (const list of lists) {
          for (const c of list) {
            if (seen.has(c.id) || c.box[2] < x0 || c.box[0] > x1 || c.box[3] < y0 || c.box[1] > y1) continue;
            seen.add(c.id);
            cells.push(c);
          }
        }
        drawCells(ctx, cells, x0, y0, scale, new Date(), { fillOpacity: 0.55, strokeWidth: coords.z >= STROKE_ZOOM ? 0.6 * ratio : 0 });
        this.drawn.set(key, parts.map(([z, x, y]) => `${z}/${x}/${y}`));
        done(undefined, canvas);
      })
      .catch((e: unknown) => done(e instanceof Error ? e : new Error(String(e)), canvas));
    return canvas;
  }

  /** The cells of the data tiles drawn now, each once. */
  private cellsDrawn(): TileCell[] {
    const keys = new Set<string>();
    for (const list of this.drawn.values()) for (const k of list) keys.add(k);
    const seen = new Set<string>();
    const out: TileCell[] = [];
    for (const k of keys) {
      for (const c of this.data.get(k)?.done ?? []) {
        if (seen.has(c.id)) continue;
        seen.add(c.id);
        out.push(c);
      }
    }
    return out;
  }

  /** The cells drawn in the map's view. */
  cellsInView(): TileCell[] {
    if (!this._map) return [];
    const b = this._map.getBounds();
    const [x0, y0] = toWorld(b.getWest(), b.getNorth());
    const [x1, y1] = toWorld(b.getEast(), b.getSouth());
    return this.cellsDrawn().filter((c) => c.box[2] >= x0 && c.box[0] <= x1 && c.box[3] >= y0 && c.box[1] <= y1);
  }

  /** The drawn cell under a point of the map (display frame), if any. */
  cellAt(ll: L.LatLng): TileCell | null {
    const [wx, wy] = toWorld(ll.lng, ll.lat);
    for (const c of this.cellsDrawn()) if (contains(c, wx, wy)) return c;
    return null;
  }

  /** The cells in view, as the members of a layer group (`feature`, `getBounds()`). */
  getLayers(): DrawnCell[] {
    return this.cellsInView().map((c) => ({
      feature: { type: 'Feature', id: c.id, properties: c.props },
      getBounds: () => {
        const [w, n] = fromWorld(c.box[0], c.box[1]);
        const [e, s] = fromWorld(c.box[2], c.box[3]);
        return L.latLngBounds([s, w], [n, e]);
      },
    }));
  }

  eachLayer(fn: (l: DrawnCell) => void): this {
    this.getLayers().forEach(fn);
    return this;
  }
}
