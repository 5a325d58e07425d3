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

/** The metric the chart shows first: the evaluation's total, else coverage, else the first. */
export function defaultMetric(metrics: string[]): string | undefined {
  return metrics.find((m) => m === 'evaluation_total') ?? metrics.find((m) => /coverage/.test(m)) ?? metrics.find((m) => /share|rate|ratio/.test(m)) ?? metrics[0];
}

export interface ItemLabel {
  zh: string;
  en: string;
}

interface TownItems {
  town: string;
  total: number;
  bonus: number;
  items: Array<{ item: string; label_zh: string; label_en: string; score: number }>;
}

/**
 * The evaluation table's items per town (the answer's `evaluation`) as the
 * first metrics of each row: `evaluation_total` (the six items and the
 * bonus) and `item_<code>`. Returns the items' labels by metric.
 */
export function addEvaluation(rows: ScoreRow[], data: unknown): Map<string, ItemLabel> {
  const labels = new Map<string, ItemLabel>();
  const list = (data as { evaluation?: TownItems[] } | null)?.evaluation;
  if (!Array.isArray(list)) return labels;
  for (const r of rows) {
    const e = list.find((x) => x.town === r.town);
    if (!e) continue;
    const first: Record<string, number> = { evaluation_total: e.total + e.bonus };
    for (const i of e.items) {
      first[`item_${i.item}`] = i.score;
      labels.set(`item_${i.item}`, { zh: i.label_zh, en: i.label_en });
    }
    r.values = { ...first, ...r.values };
  }
  return labels;
}
