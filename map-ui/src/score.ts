// The town scorecard read into rows of numbers, whatever nesting the API
// uses (`works: {social: 3}` becomes `works_social`). Pure: unit-tested.

import { rowsOf } from './blind';

export interface ScoreRow {
  town: string;
  name?: string;
  values: Record<string, number>;
}

function flatten(prefix: string, v: unknown, out: Record<string, number>): void {
  if (typeof v === 'number' && Number.isFinite(v)) out[prefix] = v;
  else if (typeof v === 'boolean') out[prefix] = v ? 1 : 0;
  else if (v && typeof v === 'object' && !Array.isArray(v)) {
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) flatten(prefix ? `${prefix}_${k}` : k, x, out);
  }
}

const TOWN_KEYS = ['town', 'town_code', 'code'];
const SKIP = new Set(['id', 'trend', 'weeks']);

export function scoreRows(data: unknown): ScoreRow[] {
  return rowsOf(data).map(({ props }) => {
    const values: Record<string, number> = {};
    for (const [k, v] of Object.entries(props)) {
      if (TOWN_KEYS.includes(k) || SKIP.has(k) || k === 'name' || k === 'town_name') continue;
      flatten(k, v, values);
    }
    const townKey = TOWN_KEYS.find((k) => props[k] !== undefined);
    return {
      town: townKey ? String(props[townKey]) : '',
      name: typeof props.town_name === 'string' ? props.town_name : typeof props.name === 'string' ? props.name : undefined,
      values,
    };
  });
}

/** Every metric that some row has, in first-seen order. */
export function metricsOf(rows: ScoreRow[]): string[] {
  const seen = new Set<string>();
  for (const r of rows) for (const k of Object.keys(r.values)) seen.add(k);
  return [...seen];
}

/** A ratio-like metric (0..1) is shown as a percentage. */
export function isRatio(metric: string, rows: ScoreRow[]): boolean {
  if (!/(ratio|share|rate|coverage)/.test(metric)) return false;
  return rows.every((r) => r.values[metric] === undefined || (r.values[metric] >= 0 && r.values[metric] <= 1));
}

/** The metric the chart shows first: coverage if present, else the first. */
export function defaultMetric(metrics: string[]): string | undefined {
  return metrics.find((m) => /coverage/.test(m)) ?? metrics.find((m) => /share|rate|ratio/.test(m)) ?? metrics[0];
}
