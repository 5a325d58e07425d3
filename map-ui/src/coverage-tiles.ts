// The coverage cells of one vector tile: decoded from the server's Mapbox
// Vector Tile (`/api/v1/tiles/coverage/{z}/{x}/{y}.mvt`), kept in Web
// Mercator "world" units (0..1 across the world, y down) for drawing and
// hit-testing, and turned back into GeoJSON for the details panel. Pure:
// no Leaflet, no DOM, unit-tested.
//
// A display frame other than WGS-84 (GCJ-02 on a Chinese base map) is a
// function applied once to every vertex when a tile is decoded; the data
// and the details stay WGS-84.

import { VectorTile } from '@mapbox/vector-tile';
import { PbfReader } from 'pbf';
import type { Feature, Polygon } from 'geojson';
import { COVERAGE_COLORS, coverageClass, type CoverageClass, type CoverageProps } from './colors';

export type LonLat = [number, number];

/** One cell of a tile: its H3 id, its patrol state and its outline. */
export interface TileCell {
  id: string;
  props: Record<string, string | number | boolean>;
  /** The outline in display world units, x,y pairs (the ring closed or not). */
  ring: Float64Array;
  /** The outline in WGS-84 lon,lat pairs. */
  lonLat: Float64Array;
  /** The display box: minX, minY, maxX, maxY in world units. */
  box: [number, number, number, number];
}

/** The tile layer's name in the server's tiles. */
export const COVERAGE_LAYER = 'coverage';

/** World units (0..1) of a WGS-84 position in Web Mercator. */
export function toWorld(lon: number, lat: number): [number, number] {
  const s = Math.sin((Math.max(-85.05112878, Math.min(85.05112878, lat)) * Math.PI) / 180);
  return [lon / 360 + 0.5, 0.5 - Math.log((1 + s) / (1 - s)) / (4 * Math.PI)];
}

/** The WGS-84 position of world units. */
export function fromWorld(x: number, y: number): LonLat {
  const lat = (Math.atan(Math.sinh(Math.PI * (1 - 2 * y))) * 180) / Math.PI;
  return [x * 360 - 180, lat];
}

/** The tiles of zoom `z` that cover a WGS-84 box (west, south, east, north). */
export function tilesCovering(z: number, west: number, south: number, east: number, north: number): Array<[number, number]> {
  const n = 2 ** z;
  const [x0, y0] = toWorld(west, north);
  const [x1, y1] = toWorld(east, south);
  const clamp = (v: number) => Math.max(0, Math.min(n - 1, Math.floor(v * n)));
  const out: Array<[number, number]> = [];
  for (let x = clamp(x0); x <= clamp(x1); x++) for (let y = clamp(y0); y <= clamp(y1); y++) out.push([x, y]);
  return out;
}

/**
 * The cells of tile `z/x/y` from its MVT bytes. `shift` maps a WGS-84
 * position to the display frame (identity, or WGS-84 → GCJ-02).
 */
export function decodeCells(bytes: Uint8Array, z: number, x: number, y: number, shift?: (lon: number, lat: number) => LonLat): TileCell[] {
  const tile = new VectorTile(new PbfReader(bytes));
  const layer = tile.layers[COVERAGE_LAYER];
  if (!layer) return [];
  const n = 2 ** z;
  const cells: TileCell[] = [];
  for (let i = 0; i < layer.length; i++) {
    const f = layer.feature(i);
    if (f.type !== 3) continue;
    const id = String(f.properties.id ?? f.properties.cell ?? f.id ?? '');
    // A hexagon is one ring; the outer ring of anything else is its outline.
    const outer = f.loadGeometry()[0];
    if (!outer || outer.length < 3) continue;
    const ring = new Float64Array(outer.length * 2);
    const lonLat = new Float64Array(outer.length * 2);
    const box: [number, number, number, number] = [Infinity, Infinity, -Infinity, -Infinity];
    outer.forEach((p, k) => {
      let wx = (x + p.x / f.extent) / n;
      let wy = (y + p.y / f.extent) / n;
      const [lon, lat] = fromWorld(wx, wy);
      lonLat[2 * k] = lon;
      lonLat[2 * k + 1] = lat;
      if (shift) [wx, wy] = toWorld(...shift(lon, lat));
      ring[2 * k] = wx;
      ring[2 * k + 1] = wy;
      box[0] = Math.min(box[0], wx);
      box[1] = Math.min(box[1], wy);
      box[2] = Math.max(box[2], wx);
      box[3] = Math.max(box[3], wy);
    });
    cells.push({ id, props: f.properties, ring, lonLat, box });
  }
  return cells;
}

/** Whether a display point (world units) lies in a cell. */
export function contains(cell: TileCell, wx: number, wy: number): boolean {
  const [x0, y0, x1, y1] = cell.box;
  if (wx < x0 || wx > x1 || wy < y0 || wy > y1) return false;
  const r = cell.ring;
  let inside = false;
  for (let i = 0, j = r.length - 2; i < r.length; j = i, i += 2) {
    const xi = r[i];
    const yi = r[i + 1];
    const xj = r[j];
    const yj = r[j + 1];
    if (yi > wy !== yj > wy && wx < ((xj - xi) * (wy - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

/** A cell as the GeoJSON feature the details panel shows (WGS-84). */
export function cellFeature(cell: TileCell): Feature<Polygon, Record<string, unknown>> {
  const ring: number[][] = [];
  for (let i = 0; i < cell.lonLat.length; i += 2) ring.push([cell.lonLat[i], cell.lonLat[i + 1]]);
  const [fx, fy] = ring[0];
  const [lx, ly] = ring[ring.length - 1];
  if (fx !== lx || fy !== ly) ring.push([fx, fy]);
  const { id: _id, ...props } = cell.props;
  void _id;
  // A tile leaves out what is null; the panel shows it as the GeoJSON cells did.
  const properties = { cell: cell.id, last_patrolled: null, days_since_patrol: null, ...props };
  return { type: 'Feature', id: cell.id, geometry: { type: 'Polygon', coordinates: [ring] }, properties };
}

/** The legend class of a cell, as the GeoJSON cells were coloured. */
export function cellClass(cell: TileCell, now: Date): CoverageClass {
  return coverageClass(cell.props as CoverageProps, now);
}

export interface DrawStyle {
  /** Fill opacity (the GeoJSON cells used 0.55 at street level). */
  fillOpacity: number;
  /** A white outline once a hexagon is large enough to hold one, in CSS pixels (0: none). */
  strokeWidth: number;
}

/**
 * Draws cells on a 2D context whose origin is world point (ox, oy) and
 * whose scale is `scale` pixels per world unit; cells are filled one
 * colour class at a time, each cell once.
 */
export function drawCells(ctx: CanvasRenderingContext2D, cells: Iterable<TileCell>, ox: number, oy: number, scale: number, now: Date, style: DrawStyle): number {
  const byClass = new Map<CoverageClass, TileCell[]>();
  let n = 0;
  for (const c of cells) {
    const cls = cellClass(c, now);
    let list = byClass.get(cls);
    if (!list) byClass.set(cls, (list = []));
    list.push(c);
    n++;
  }
  const trace = (list: TileCell[]) => {
    ctx.beginPath();
    for (const c of list) {
      const r = c.ring;
      ctx.moveTo((r[0] - ox) * scale, (r[1] - oy) * scale);
      for (let i = 2; i < r.length; i += 2) ctx.lineTo((r[i] - ox) * scale, (r[i + 1] - oy) * scale);
      ctx.closePath();
    }
  };
  for (const [cls, list] of byClass) {
    trace(list);
    ctx.globalAlpha = style.fillOpacity;
    ctx.fillStyle = COVERAGE_COLORS[cls];
    ctx.fill();
    if (style.strokeWidth > 0) {
      ctx.globalAlpha = 1;
      ctx.strokeStyle = '#ffffff';
      ctx.lineWidth = style.strokeWidth;
      ctx.stroke();
    }
  }
  ctx.globalAlpha = 1;
  return n;
}
