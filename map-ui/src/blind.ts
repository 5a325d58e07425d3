// The blind-spot lists, read into one shape whatever the endpoint (cells,
// districts, works near venues, works outside management). Pure: tested
// without a browser.

import type { Geometry } from 'geojson';

export type BlindKind =
  | 'cells'
  | 'districts'
  | 'near_venues'
  | 'works.above_limit'
  | 'works.outside_grid'
  | 'works.unfiled'
  | 'works.uninspected'
  | 'works.overdue_hazard'
  | 'works.no_completion_filing';

export const BLIND_KINDS: BlindKind[] = [
  'cells',
  'districts',
  'near_venues',
  'works.above_limit',
  'works.outside_grid',
  'works.unfiled',
  'works.uninspected',
  'works.overdue_hazard',
  'works.no_completion_filing',
];

/** The endpoint (an OpenAPI path) and query of a blind-spot list. */
export function blindEndpoint(
  kind: BlindKind,
  opts: { town?: string; from?: string; to?: string; distance_m?: number },
): { template: string; params: Record<string, string | number | undefined> } {
  switch (kind) {
    case 'cells':
      return {
        template: '/api/v1/blindspots/cells',
        params: { scope: opts.town ? `town:${opts.town}` : 'district', from: opts.from, to: opts.to },
      };
    case 'districts':
      return { template: '/api/v1/blindspots/districts', params: { from: opts.from, to: opts.to, town: opts.town } };
    case 'near_venues':
      return { template: '/api/v1/blindspots/near-venues', params: { distance_m: opts.distance_m ?? 100, town: opts.town } };
    default:
      return { template: '/api/v1/blindspots/works', params: { kind: kind.slice('works.'.length), town: opts.town } };
  }
}

export interface BlindItem {
  key: string;
  title: string;
  reasons: string[];
  town?: string;
  flagged?: boolean;
  geometry?: Geometry;
  projectId?: number;
  venueId?: number;
  districtId?: number;
  distance?: number;
  raw: Record<string, unknown>;
}

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A reason as text: a string, or an object's message/detail/text/reason/code. */
export function reasonText(r: unknown, lang: 'zh' | 'en' = 'en'): string {
  if (typeof r === 'string') return r;
  if (isObj(r)) {
    if (lang === 'zh' && typeof r.text_zh === 'string') return r.text_zh;
    for (const k of ['text', 'message', 'detail', 'reason', 'description', 'code', 'kind']) {
      if (typeof r[k] === 'string') return r[k] as string;
    }
    return JSON.stringify(r);
  }
  return String(r);
}

function num(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && v !== '' && !Number.isNaN(Number(v))) return Number(v);
  return undefined;
}

/** Rows of a FeatureCollection, an array or an object holding one. */
export function rowsOf(data: unknown): Array<{ props: Obj; geometry?: Geometry; id?: unknown }> {
  if (isObj(data) && Array.isArray(data.features)) {
    return (data.features as Obj[]).map((f) => ({
      props: isObj(f.properties) ? f.properties : {},
      geometry: (f.geometry as Geometry | null) ?? undefined,
      id: f.id,
    }));
  }
  let arr: unknown[] = [];
  if (Array.isArray(data)) arr = data;
  else if (isObj(data)) {
    const k = ['items', 'rows', 'data', 'results', 'cells', 'districts', 'pairs', 'works'].find((k) => Array.isArray(data[k]));
    if (k) arr = data[k] as unknown[];
  }
  return arr.filter(isObj).map((o) => ({ props: o, geometry: (o.geometry as Geometry | undefined) ?? undefined, id: o.id }));
}

export function normalizeBlind(kind: BlindKind, data: unknown, lang: 'zh' | 'en' = 'en'): BlindItem[] {
  return rowsOf(data).map(({ props, geometry, id }, i) => {
    const reasons = Array.isArray(props.reasons) ? props.reasons.map((r) => reasonText(r, lang)) : props.reason ? [reasonText(props.reason, lang)] : [];
    let geom = geometry;
    const lon = num(props.lon ?? props.longitude);
    const lat = num(props.lat ?? props.latitude);
    if (!geom && lon !== undefined && lat !== undefined) geom = { type: 'Point', coordinates: [lon, lat] };
    if (!geom && Array.isArray(props.center) && props.center.length === 2) geom = { type: 'Point', coordinates: props.center as number[] };
    const projectId = num(props.project_id) ?? (kind.startsWith('works.') ? num(id ?? props.id) : undefined);
    const venueId = num(props.venue_id);
    const project = isObj(props.project) ? props.project : undefined;
    const venue = isObj(props.venue) ? props.venue : undefined;
    let title = String(props.name ?? props.project_name ?? project?.name ?? props.cell ?? props.code ?? id ?? `#${i + 1}`);
    if (kind === 'cells' && typeof props.place === 'string' && props.place) {
      // "文翔路70号附近 · 岳阳街道 第1网格": the place, not the H3 id (kept in the details)
      title = lang === 'en' && typeof props.place_en === 'string' ? props.place_en : props.place;
    }
    if (kind === 'near_venues') {
      const v = props.venue_name ?? venue?.name;
      const p = props.project_name ?? project?.name ?? props.name;
      if (p && v) title = `${String(p)} ↔ ${String(v)}`;
    }
    const key = `${kind}:${String(id ?? props.cell ?? props.code ?? `${projectId ?? ''}-${venueId ?? ''}`)}:${i}`;
    return {
      key,
      title,
      reasons,
      town: props.town !== undefined ? String(props.town) : undefined,
      flagged: typeof props.flagged === 'boolean' ? props.flagged : undefined,
      geometry: geom,
      projectId,
      venueId,
      districtId: num(props.district_id) ?? (kind === 'districts' ? num(id) : undefined),
      distance: num(props.distance_m),
      raw: props,
    };
  });
}
