import { describe, expect, it, vi } from 'vitest';

// The modules under test draw with Leaflet elsewhere; their pure parts need none.
vi.mock('leaflet', () => ({ default: {} }));
vi.mock('../src/views/coverage', () => ({ loadAll: vi.fn(), loadGrids: vi.fn(), labelPoint: vi.fn() }));

import { csvText, geojsonText } from '../src/download';
import { coverageSeries, hazardWeeks, weekStart } from '../src/trends';
import { entriesOf, search } from '../src/search';
import { declutter, roadBox } from '../src/basemap';
import { addDaysIso, formatDateTime, formatTime, isoDate } from '../src/util';
import { normalizeBlind } from '../src/blind';

describe('Beijing time whatever the browser zone', () => {
  it('days and times are read in UTC+8', () => {
    // 17:05 UTC is 01:05 the next day in Beijing
    expect(isoDate(new Date('2026-12-06T17:05:00Z'))).toBe('2026-12-07');
    expect(formatDateTime('2026-12-06T17:05:00Z')).toBe('2026-12-07 01:05');
    expect(formatTime('2026-11-03T00:30:13Z')).toBe('08:30');
    expect(formatDateTime('2026-12-06')).toBe('2026-12-06');
    expect(addDaysIso('2026-12-31', 1)).toBe('2027-01-01');
    expect(addDaysIso('2026-03-01', -1)).toBe('2026-02-28');
  });
});

describe('downloads', () => {
  it('CSV has a BOM, the headers, quotes where needed and CRLF', () => {
    const text = csvText(
      [
        { label: '名称', value: (r: { n: string; v: number }) => r.n },
        { label: '风险', value: (r: { n: string; v: number }) => r.v },
      ],
      [
        { n: '文翔路70号附近 · 岳阳街道 第1网格', v: 4.5 },
        { n: '引号"与,逗号', v: Number.NaN },
      ],
    );
    expect(text.charCodeAt(0)).toBe(0xfeff);
    expect(text.slice(1).split('\r\n')).toEqual(['名称,风险', '文翔路70号附近 · 岳阳街道 第1网格,4.5', '"引号""与,逗号",', '']);
  });

  it('GeoJSON keeps the rows with a geometry', () => {
    const fc = JSON.parse(
      geojsonText(
        [{ g: { type: 'Point' as const, coordinates: [121.2, 31] }, n: 'a' }, { g: null, n: 'b' }],
        (r) => r.g,
        (r) => ({ 名称: r.n }),
      ),
    );
    expect(fc.features).toHaveLength(1);
    expect(fc.features[0].properties).toEqual({ 名称: 'a' });
  });
});

describe('trends', () => {
  it('coverage shares become one series per area over the union of weeks', () => {
    const { weeks, series } = coverageSeries([
      { area: 'a', name: '岳阳街道', trend: [{ iso_week: '2026-W44', week_start: '2026-10-26', ratio: 0.5 }] },
      { area: 'b', name: '泗泾镇', trend: [{ iso_week: '2026-W45', week_start: '2026-11-02', ratio: 0.25 }] },
    ]);
    expect(weeks).toEqual(['2026-10-26', '2026-11-02']);
    expect(series[0].values[0]).toBe(50);
    expect(series[0].values[1]).toBeNaN();
    expect(series[1].values[1]).toBe(25);
  });

  it('weeks start on Beijing Mondays', () => {
    // Sunday 2026-11-01 20:00 UTC is Monday 04:00 in Beijing
    expect(weekStart('2026-11-01T20:00:00Z')).toBe('2026-11-02');
    expect(weekStart('2026-11-01T10:00:00Z')).toBe('2026-10-26');
  });

  it('hazards found, closed and still open per week', () => {
    const weeks = hazardWeeks(
      [
        { found_at: '2026-10-27T02:00:00Z', closed_at: '2026-11-03T02:00:00Z' },
        { found_at: '2026-10-28T02:00:00Z' },
        { found_at: '2026-11-04T02:00:00Z', closed_at: '2026-11-05T02:00:00Z' },
      ],
      '2026-11-12T00:00:00Z',
    );
    expect(weeks).toEqual([
      { week: '2026-10-26', found: 2, closed: 0, open: 2 },
      { week: '2026-11-02', found: 1, closed: 2, open: 1 },
      { week: '2026-11-09', found: 0, closed: 0, open: 1 },
    ]);
  });
});

describe('find my grid', () => {
  const poly = { type: 'Polygon' as const, coordinates: [[[121.2, 31], [121.21, 31], [121.21, 31.01], [121.2, 31]]] };
  const entries = entriesOf({
    grids: [
      { type: 'Feature', geometry: poly, properties: { name: '岳阳街道 第1网格', manager: '胡晓东', code: '310117001-G01', zone: '310117001-Z1' } },
      { type: 'Feature', geometry: poly, properties: { name: '岳阳街道 第2网格', manager: '李明', code: '310117001-G02', zone: '310117001-Z1' } },
    ],
    zones: [{ type: 'Feature', geometry: null as never, properties: { name: '岳阳街道 第1片区', manager: '郭静怡', code: '310117001-Z1', town: '310117001' } }],
    towns: [{ type: 'Feature', geometry: poly, properties: { name: '岳阳街道', code: '310117001' } }],
    works: [{ type: 'Feature', geometry: { type: 'Point', coordinates: [121.2, 31] }, properties: { name: '文翔路70号口腔诊所装修', code: 'SJ-2026-0001', address: '文翔路70号' } }],
  });

  it('a manager finds their grid first', () => {
    const r = search(entries, '胡晓东');
    expect(r[0]).toMatchObject({ kind: 'grid', name: '岳阳街道 第1网格' });
    expect(r).toHaveLength(1);
  });

  it('names rank before managers, grids before zones and towns', () => {
    expect(search(entries, '岳阳').map((e) => e.kind)).toEqual(['grid', 'grid', 'zone', 'town']);
    expect(search(entries, '文翔路')[0].kind).toBe('work');
    expect(search(entries, 'sj-2026-0001')[0].kind).toBe('work');
    expect(search(entries, '  ')).toEqual([]);
  });

  it('a zone without an outline gets its grids', () => {
    const zone = entries.find((e) => e.kind === 'zone');
    expect(zone?.geometry?.type).toBe('MultiPolygon');
  });
});

describe('base map', () => {
  it('the road box covers the view, rounded, within the endpoint limit', () => {
    const [w, s, e, n] = roadBox(121.21, 31.03, 121.24, 31.05);
    expect(w).toBeLessThanOrEqual(121.21);
    expect(e).toBeGreaterThanOrEqual(121.24);
    expect(s).toBeLessThanOrEqual(31.03);
    expect(n).toBeGreaterThanOrEqual(31.05);
    const wide = roadBox(121.0, 30.9, 121.4, 31.2);
    expect(wide[2] - wide[0]).toBeLessThanOrEqual(0.12 + 1e-9);
    expect(wide[3] - wide[1]).toBeLessThanOrEqual(0.12 + 1e-9);
  });

  it('labels that collide give way to the better ranked', () => {
    const kept = declutter([
      { rank: 2, x: 100, y: 100, w: 60, h: 18, text: 'venue' },
      { rank: 0, x: 110, y: 104, w: 60, h: 18, text: 'grid' },
      { rank: 3, x: 300, y: 100, w: 60, h: 18, text: 'work' },
    ]);
    expect(kept.map((k) => k.text)).toEqual(['grid', 'work']);
  });
});

describe('blind cells by place', () => {
  it('a cell is titled by its place in the current language', () => {
    const data = {
      type: 'FeatureCollection',
      features: [{ type: 'Feature', id: '8a', geometry: null, properties: { cell: '8a309b9ac24ffff', place: '文翔路70号附近 · 岳阳街道 第1网格', place_en: 'near 文翔路70号 · 岳阳街道 第1网格', reasons: [{ code: 'never_patrolled', text: 'never patrolled', text_zh: '从未巡查' }] } }],
    };
    const zh = normalizeBlind('cells', data, 'zh')[0];
    expect(zh.title).toBe('文翔路70号附近 · 岳阳街道 第1网格');
    expect(zh.reasons).toEqual(['从未巡查']);
    expect(normalizeBlind('cells', data, 'en')[0].title).toBe('near 文翔路70号 · 岳阳街道 第1网格');
  });
});
