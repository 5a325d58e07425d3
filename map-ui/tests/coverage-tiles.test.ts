import { describe, expect, it } from 'vitest';
import { PbfWriter } from 'pbf';
import { cellClass, cellFeature, contains, decodeCells, fromWorld, tilesCovering, toWorld } from '../src/coverage-tiles';
import { wgs84ToGcj02 } from '../src/gcj02';

type Value = string | number | boolean;

/** An MVT of one `coverage` layer holding one polygon per cell (a ring of WGS-84 points in tile z/x/y). */
function mvt(z: number, x: number, y: number, cells: Array<{ id: string; ring: Array<[number, number]>; props: Record<string, Value> }>): Uint8Array {
  const keys: string[] = [];
  const values: Value[] = [];
  const index = <T>(list: T[], v: T) => (list.includes(v) ? list.indexOf(v) : list.push(v) - 1);
  const n = 2 ** z;
  const zigzag = (v: number) => (v << 1) ^ (v >> 31);
  const features = cells.map((c) => {
    const tags: number[] = [];
    for (const [k, v] of Object.entries({ ...c.props, id: c.id })) tags.push(index(keys, k), index(values, v));
    const pts = c.ring.map(([lon, lat]) => {
      const [wx, wy] = toWorld(lon, lat);
      return [Math.round((wx * n - x) * 4096), Math.round((wy * n - y) * 4096)];
    });
    const geom: number[] = [9, zigzag(pts[0][0]), zigzag(pts[0][1]), 2 | ((pts.length - 1) << 3)];
    for (let i = 1; i < pts.length; i++) geom.push(zigzag(pts[i][0] - pts[i - 1][0]), zigzag(pts[i][1] - pts[i - 1][1]));
    geom.push(15);
    return { tags, geom };
  });
  const pbf = new PbfWriter();
  pbf.writeMessage(
    3,
    (_: null, p: PbfWriter) => {
      p.writeVarintField(15, 2);
      p.writeStringField(1, 'coverage');
      for (const f of features)
        p.writeMessage(
          2,
          (_f: null, q: PbfWriter) => {
            q.writePackedVarint(2, f.tags);
            q.writeVarintField(3, 3);
            q.writePackedVarint(4, f.geom);
          },
          null,
        );
      for (const k of keys) p.writeStringField(3, k);
      for (const v of values)
        p.writeMessage(
          4,
          (_v: null, q: PbfWriter) => {
            if (typeof v === 'string') q.writeStringField(1, v);
            else if (typeof v === 'boolean') q.writeBooleanField(7, v);
            else q.writeDoubleField(3, v);
          },
          null,
        );
      p.writeVarintField(5, 4096);
    },
    null,
  );
  return pbf.finish();
}

/** A small hexagon around a WGS-84 point (about 130 m across). */
function hexagon(lon: number, lat: number): Array<[number, number]> {
  const r = 0.0007;
  return Array.from({ length: 6 }, (_, i) => [lon + r * Math.cos((i * Math.PI) / 3), lat + r * Math.sin((i * Math.PI) / 3)] as [number, number]);
}

// 松江 old town at zoom 14
const Z = 14;
const [TX, TY] = tilesCovering(Z, 121.235, 31.005, 121.235, 31.005)[0];

describe('coverage tiles', () => {
  it('world units round-trip WGS-84 positions', () => {
    const [x, y] = toWorld(121.235, 31.005);
    const [lon, lat] = fromWorld(x, y);
    expect(lon).toBeCloseTo(121.235, 10);
    expect(lat).toBeCloseTo(31.005, 10);
    expect(tilesCovering(0, -10, -10, 10, 10)).toEqual([[0, 0]]);
    expect(tilesCovering(Z, 121.2, 31.0, 121.27, 31.01).length).toBeGreaterThan(1);
  });

  it('decodes the cells of a tile with their state, in WGS-84 to the tile precision', () => {
    const bytes = mvt(Z, TX, TY, [
      { id: '8a309a40001ffff', ring: hexagon(121.235, 31.005), props: { patrolled: true, visits: 3, last_patrolled: new Date().toISOString(), overdue: false } },
      { id: '8a309a40003ffff', ring: hexagon(121.237, 31.006), props: { patrolled: false, visits: 0, overdue: false } },
    ]);
    const cells = decodeCells(bytes, Z, TX, TY);
    expect(cells.map((c) => c.id)).toEqual(['8a309a40001ffff', '8a309a40003ffff']);
    // 4096 units over 2.1 km: half a metre
    expect(Math.abs(cells[0].lonLat[0] - hexagon(121.235, 31.005)[0][0])).toBeLessThan(1e-5);
    const now = new Date();
    expect(cellClass(cells[0], now)).toBe('recent0');
    expect(cellClass(cells[1], now)).toBe('never');
    const [wx, wy] = toWorld(121.235, 31.005);
    expect(contains(cells[0], wx, wy)).toBe(true);
    expect(contains(cells[1], wx, wy)).toBe(false);
    // the details: a closed WGS-84 ring, and the fields the tile left out as null
    const f = cellFeature(cells[1]);
    expect(f.id).toBe('8a309a40003ffff');
    expect(f.properties).toMatchObject({ cell: '8a309a40003ffff', patrolled: false, last_patrolled: null, days_since_patrol: null });
    const ring = f.geometry.coordinates[0];
    expect(ring[0]).toEqual(ring[ring.length - 1]);
  });

  it('shifts what is drawn on a GCJ-02 map, not the data', () => {
    const bytes = mvt(Z, TX, TY, [{ id: 'a', ring: hexagon(121.235, 31.005), props: { patrolled: false } }]);
    const [plain] = decodeCells(bytes, Z, TX, TY);
    const [shifted] = decodeCells(bytes, Z, TX, TY, wgs84ToGcj02);
    expect(Array.from(shifted.lonLat)).toEqual(Array.from(plain.lonLat));
    const [gx, gy] = toWorld(...wgs84ToGcj02(plain.lonLat[0], plain.lonLat[1]));
    expect(shifted.ring[0]).toBeCloseTo(gx, 12);
    expect(shifted.ring[1]).toBeCloseTo(gy, 12);
    // a few hundred metres: the cell is found at its shifted place only
    const [sx, sy] = toWorld(...wgs84ToGcj02(121.235, 31.005));
    expect(contains(shifted, sx, sy)).toBe(true);
    expect(contains(plain, sx, sy)).toBe(false);
  });

  it('reads a tile without the coverage layer as empty', () => {
    expect(decodeCells(new PbfWriter().finish(), Z, TX, TY)).toEqual([]);
  });
});
