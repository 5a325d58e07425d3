// Colours of the map: the coverage scale (days since the last patrol), the
// works by status and funding, and the other layers. Pure, unit-tested.

export type CoverageClass = 'never' | 'overdue' | 'recent0' | 'recent1' | 'recent2';

/** A diverging red-to-green scale that reads on a light background and in print. */
export const COVERAGE_COLORS: Record<CoverageClass, string> = {
  never: '#d7191c',
  overdue: '#fdae61',
  recent0: '#1a9850',
  recent1: '#66bd63',
  recent2: '#d9ef8b',
};

export const COVERAGE_ORDER: CoverageClass[] = ['never', 'overdue', 'recent2', 'recent1', 'recent0'];

export interface CoverageProps {
  patrolled?: boolean | number | null;
  visits?: number | null;
  last_patrolled?: string | null;
  overdue?: boolean | number | null;
  /** Aggregated cells (res below 10): the shares of children patrolled / overdue. */
  patrolled_share?: number | null;
  overdue_share?: number | null;
}

const DAY_MS = 86_400_000;

/** Whole days from `iso` to `now`; null when never. */
export function daysSince(iso: string | null | undefined, now: Date): number | null {
  if (!iso) return null;
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return null;
  return Math.max(0, Math.floor((now.getTime() - t) / DAY_MS));
}

/**
 * The legend class of a cell: never patrolled, overdue (its last patrol is
 * older than its grid's interval, as the API says), or recent by age.
 */
export function coverageClass(p: CoverageProps, now: Date): CoverageClass {
  const days = daysSince(p.last_patrolled, now);
  if (typeof p.patrolled_share === 'number') {
    // A coarser cell aggregating its children shows the freshest patrol in
    // it: red only when no child was ever patrolled, overdue when every
    // child is (the API's `overdue` of an aggregate).
    if (p.patrolled_share === 0 && days === null) return 'never';
    if (p.overdue === true) return 'overdue';
    if (days === null || days <= 3) return 'recent0';
    return days <= 7 ? 'recent1' : 'recent2';
  }
  const patrolled = p.patrolled === true || (typeof p.patrolled === 'number' && p.patrolled > 0) || days !== null;
  if (!patrolled) return 'never';
  if (p.overdue === true || (typeof p.overdue === 'number' && p.overdue > 0)) return 'overdue';
  if (days === null || days <= 3) return 'recent0';
  if (days <= 7) return 'recent1';
  return 'recent2';
}

export const STATUS_COLORS: Record<string, string> = {
  discovered: '#e31a1c',
  filed: '#ff7f00',
  notified: '#fdbf6f',
  in_progress: '#1f78b4',
  completed: '#b2b2b2',
};

export const FUNDING_COLORS: Record<string, string> = {
  government: '#08306b',
  collective: '#6a3d9a',
  social: '#b15928',
};

export const VENUE_COLOR = '#7b3294';
export const DISTRICT_COLOR = '#c51b7d';
export const TOWN_COLOR = '#37474f';
export const ZONE_COLOR = '#5c6bc0';
export const GRID_COLOR = '#90a4ae';
export const ROUTE_COLOR = '#0050b3';

/**
 * A stable colour per officer for tracks: dark blues and violets, which stand
 * out on the red-to-green cells and differ from the planned route's blue.
 */
export const TRACK_COLORS = ['#1b1f3b', '#4a148c', '#283593', '#6a1b9a', '#0d47a1', '#311b92', '#37474f', '#880e4f'];

export function officerColor(key: string): string {
  let h = 0;
  for (let i = 0; i < key.length; i++) h = (h * 31 + key.charCodeAt(i)) >>> 0;
  return TRACK_COLORS[h % TRACK_COLORS.length];
}
