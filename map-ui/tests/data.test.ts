import { describe, expect, it } from 'vitest';
import { barChartSvg } from '../src/chart';
import { blindEndpoint, normalizeBlind, reasonText } from '../src/blind';
import { addEvaluation, defaultMetric, isRatio, metricsOf, scoreRows } from '../src/score';

describe('blind-spot lists', () => {
  it('read a FeatureCollection of cells with reasons', () => {
    const items = normalizeBlind('cells', {
      type: 'FeatureCollection',
      features: [
        {
          type: 'Feature',
          id: 7,
          geometry: { type: 'Polygon', coordinates: [[[121.2, 31.0], [121.21, 31.0], [121.21, 31.01], [121.2, 31.0]]] },
          properties: { cell: '8a309b9ac24ffff', town: '310117001', reasons: ['never patrolled', { code: 'venue', message: 'school within 100 m' }] },
        },
      ],
    });
    expect(items).toHaveLength(1);
    expect(items[0].title).toBe('8a309b9ac24ffff');
    expect(items[0].reasons).toEqual(['never patrolled', 'school within 100 m']);
    expect(items[0].geometry?.type).toBe('Polygon');
    expect(items[0].town).toBe('310117001');
  });

  it('read near-venue pairs from a plain array', () => {
    const items = normalizeBlind('near_venues', [{ project_id: 12, venue_id: 3, distance_m: 42.4, project_name: '装修', venue_name: '万达广场', hot_work: true }]);
    expect(items[0].projectId).toBe(12);
    expect(items[0].venueId).toBe(3);
    expect(items[0].distance).toBeCloseTo(42.4);
    expect(items[0].title).toBe('装修 ↔ 万达广场');
  });

  it('works lists take the feature id as the project', () => {
    const items = normalizeBlind('works.above_limit', { items: [{ id: 5, name: 'x', lon: 121.2, lat: 31.0, reasons: ['investment ≥ 1,000,000 CNY'] }] });
    expect(items[0].projectId).toBe(5);
    expect(items[0].geometry).toEqual({ type: 'Point', coordinates: [121.2, 31.0] });
  });

  it('endpoints follow the blind-spot contract', () => {
    expect(blindEndpoint('cells', { town: '310117001', from: '2026-10-01', to: '2026-11-01' })).toEqual({
      template: '/api/v1/blindspots/cells',
      params: { scope: 'town:310117001', from: '2026-10-01', to: '2026-11-01' },
    });
    expect(blindEndpoint('cells', {}).params.scope).toBe('district');
    expect(blindEndpoint('near_venues', {}).params.distance_m).toBe(100);
    expect(blindEndpoint('works.overdue_hazard', {})).toMatchObject({ template: '/api/v1/blindspots/works', params: { kind: 'overdue_hazard' } });
  });

  it('reason objects without text still read', () => {
    expect(reasonText({ foo: 1 })).toBe('{"foo":1}');
    expect(reasonText(3)).toBe('3');
  });
});

describe('scorecard', () => {
  const rows = scoreRows([
    { town: '310117001', name: '岳阳街道', works: { government: 2, social: 6 }, social_share: 0.75, patrol_coverage: 0.4, hazards_found: 3 },
    { town: '310117102', name: '泗泾镇', works: { government: 4, social: 0 }, social_share: 0, patrol_coverage: 0.9, hazards_found: 1 },
  ]);

  it('flattens nested counts', () => {
    expect(rows[0].values.works_social).toBe(6);
    expect(rows[0].town).toBe('310117001');
    expect(rows[0].name).toBe('岳阳街道');
    expect(metricsOf(rows)).toEqual(['works_government', 'works_social', 'social_share', 'patrol_coverage', 'hazards_found']);
  });

  it('knows ratios and picks coverage first', () => {
    expect(isRatio('social_share', rows)).toBe(true);
    expect(isRatio('hazards_found', rows)).toBe(false);
    expect(defaultMetric(metricsOf(rows))).toBe('patrol_coverage');
  });
});

describe('scorecard with the evaluation', () => {
  it('puts the evaluation total and the items first, labelled, and charts the total', () => {
    const data = {
      items: [{ town: '310117001', town_name: '岳阳街道', patrol_coverage: 0.4 }],
      evaluation: [{ town: '310117001', total: 71.5, bonus: 2, items: [{ item: 'notice', label_zh: '告知承诺', label_en: 'Written notice', score: 7.5 }] }],
    };
    const rows = scoreRows(data);
    const labels = addEvaluation(rows, data);
    expect(metricsOf(rows)).toEqual(['evaluation_total', 'item_notice', 'patrol_coverage']);
    expect(rows[0].values.evaluation_total).toBe(73.5);
    expect(labels.get('item_notice')).toEqual({ zh: '告知承诺', en: 'Written notice' });
    expect(defaultMetric(metricsOf(rows))).toBe('evaluation_total');
  });
});

describe('bar chart', () => {
  it('draws one bar per finite value, largest first, escaped', () => {
    const svg = barChartSvg([
      { label: 'a<b', value: 1 },
      { label: 'big', value: 4 },
      { label: 'no-value', value: Number.NaN },
    ]);
    expect(svg.match(/<rect /g)).toHaveLength(2);
    expect(svg.indexOf('big')).toBeLessThan(svg.indexOf('a&lt;b'));
    expect(svg).not.toContain('no-value');
    expect(svg.startsWith('<svg')).toBe(true);
  });

  it('handles all zeros', () => {
    expect(barChartSvg([{ label: 'z', value: 0 }])).toContain('width="0.0"');
  });
});

describe('reasons in the reader’s language', () => {
  it('uses text_zh in Chinese and text in English', () => {
    const r = { code: 'low_patrol_coverage', text: 'patrol coverage 18% < 60%', text_zh: '巡查覆盖率 18% < 60%' };
    expect(reasonText(r, 'zh')).toBe('巡查覆盖率 18% < 60%');
    expect(reasonText(r, 'en')).toBe('patrol coverage 18% < 60%');
  });
});
