import { describe, expect, it } from 'vitest';
import { gcj02ToWgs84, outOfChina, wgs84ToGcj02 } from '../src/gcj02';

describe('WGS-84 → GCJ-02', () => {
  it('matches the published pair of the widely used coordtransform implementations', () => {
    // wgs84togcj02(116.404, 39.915) → [116.41024449916938, 39.91640428150164]
    const [lon, lat] = wgs84ToGcj02(116.404, 39.915);
    expect(lon).toBeCloseTo(116.41024449916938, 12);
    expect(lat).toBeCloseTo(39.91640428150164, 12);
  });

  it('shifts Songjiang by a few hundred metres, east and north-ish', () => {
    const [lon, lat] = wgs84ToGcj02(121.2277, 31.0322); // 松江 (Songjiang)
    const dx = (lon - 121.2277) * 111_320 * Math.cos((31.0322 * Math.PI) / 180);
    const dy = (lat - 31.0322) * 110_574;
    expect(Math.hypot(dx, dy)).toBeGreaterThan(300);
    expect(Math.hypot(dx, dy)).toBeLessThan(800);
    expect(dx).toBeGreaterThan(0);
  });

  it('leaves points outside mainland China unchanged', () => {
    expect(outOfChina(2.35, 48.85)).toBe(true);
    expect(wgs84ToGcj02(2.35, 48.85)).toEqual([2.35, 48.85]);
    expect(gcj02ToWgs84(2.35, 48.85)).toEqual([2.35, 48.85]);
  });

  it('the inverse round-trips to under a millimetre over the district', () => {
    for (let i = 0; i < 200; i++) {
      const lon = 121.0 + (i % 20) * 0.018;
      const lat = 30.9 + Math.floor(i / 20) * 0.022;
      const [g0, g1] = wgs84ToGcj02(lon, lat);
      const [w0, w1] = gcj02ToWgs84(g0, g1);
      expect(Math.abs(w0 - lon)).toBeLessThan(1e-8);
      expect(Math.abs(w1 - lat)).toBeLessThan(1e-8);
    }
  });

  it('the inverse is close to the published one-step approximation', () => {
    // gcj02towgs84(116.404, 39.915) → [116.39775550083061, 39.91359571849836]
    // (one step of the approximation; ours iterates, so agree to ~1e-5°)
    const [lon, lat] = gcj02ToWgs84(116.404, 39.915);
    expect(Math.abs(lon - 116.39775550083061)).toBeLessThan(2e-5);
    expect(Math.abs(lat - 39.91359571849836)).toBeLessThan(2e-5);
  });
});
