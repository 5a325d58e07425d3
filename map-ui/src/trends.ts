// Trends people look at, from the API's answers: the coverage summary's
// weekly shares as series per area, and hazard closure per Beijing week
// (found, closed, still open at the week's end). Pure: tested without a browser.

import { addDaysIso, isoDate } from './util';

export interface WeekShare {
  iso_week: string;
  week_start: string;
  ratio: number;
}

export interface AreaTrend {
  area: string;
  name: string;
  trend: WeekShare[];
}

/** The weeks (their Monday) of all areas, in order, and one series of shares (%) per area. */
export function coverageSeries(areas: AreaTrend[]): { weeks: string[]; series: Array<{ label: string; area: string; values: number[] }> } {
  const weeks = [...new Set(areas.flatMap((a) => a.trend.map((w) => w.week_start)))].sort();
  const series = areas.map((a) => {
    const by = new Map(a.trend.map((w) => [w.week_start, w.ratio * 100]));
    return { label: a.name, area: a.area, values: weeks.map((w) => by.get(w) ?? Number.NaN) };
  });
  return { weeks, series };
}

export interface HazardTimes {
  found_at: string;
  closed_at?: string | null;
}

/** The Monday (Beijing calendar) of the week an instant falls in. */
export function weekStart(iso: string): string {
  const day = isoDate(new Date(iso));
  const dow = new Date(`${day}T00:00:00Z`).getUTCDay(); // 0 Sunday … 6 Saturday
  return addDaysIso(day, -((dow + 6) % 7));
}

export interface HazardWeek {
  week: string;
  found: number;
  closed: number;
  /** Found by the week's end and not closed by then. */
  open: number;
}

/** Hazard closure per week, from the first week a hazard was found to `until`'s week. */
export function hazardWeeks(hazards: HazardTimes[], until: string): HazardWeek[] {
  if (hazards.length === 0) return [];
  const found = new Map<string, number>();
  const closed = new Map<string, number>();
  for (const h of hazards) {
    const f = weekStart(h.found_at);
    found.set(f, (found.get(f) ?? 0) + 1);
    if (h.closed_at) {
      const c = weekStart(h.closed_at);
      closed.set(c, (closed.get(c) ?? 0) + 1);
    }
  }
  const first = [...found.keys()].sort()[0];
  const last = weekStart(until);
  const out: HazardWeek[] = [];
  let open = 0;
  for (let w = first; w <= last; w = addDaysIso(w, 7)) {
    const f = found.get(w) ?? 0;
    const c = closed.get(w) ?? 0;
    open += f - c;
    out.push({ week: w, found: f, closed: c, open });
    if (out.length > 520) break;
  }
  return out;
}
