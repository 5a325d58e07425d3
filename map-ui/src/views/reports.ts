// Reports: the coverage summary per town (or the grids of a town) with its
// weekly trend as a line chart, hazard closure over time beside the hazard
// list, and the inspection ledger — each table with its downloads.

import type { App } from '../app';
import { api, offers, withQuery } from '../api';
import { lineChartSvg } from '../chart';
import { downloadButtons } from '../download';
import { applyI18n, lang, onLangChange, t, tv } from '../i18n';
import { coverageSeries, hazardWeeks, type AreaTrend, type HazardWeek } from '../trends';
import { addDaysIso, formatDateTime, formatNumber, h, isoDate, townName } from '../util';
import { loadAll, loadGrids } from './coverage';

/** The trend covers twelve weeks up to the window's end. */
const TREND_DAYS = 84;

interface AreaRow extends AreaTrend {
  cells: number;
  patrolled_cells: number;
  ratio: number;
  overdue_cells: number;
}

interface Hazard {
  id: number;
  project_id: number;
  kind: string;
  kind_zh: string;
  severity: string;
  severity_zh: string;
  status: string;
  status_zh: string;
  deadline: string;
  found_at: string;
  closed_at?: string | null;
  overdue: boolean;
  days_overdue: number;
}

interface Work {
  name: string;
  code: string;
  town: string;
}

export class ReportsView {
  private readonly app: App;
  private readonly el: HTMLElement;
  private level: 'town' | 'grid' = 'town';
  private town = '';
  private areas: AreaRow[] = [];
  private hazards: Hazard[] = [];
  private works = new Map<number, Work>();
  /** Grid id → its town's code (the summary names a grid by its id). */
  private gridTowns = new Map<string, string>();
  private loadedKey = '';
  private state: 'loading' | 'ready' | 'error' | 'na' = 'loading';
  private error = '';

  constructor(app: App, el: HTMLElement) {
    this.app = app;
    this.el = el;
  }

  init(): void {
    const side = document.getElementById('panel-reports-side');
    if (side) {
      side.innerHTML = '<h2 data-i18n="reports.title"></h2><p class="small muted" data-i18n="reports.side_hint"></p>';
      applyI18n(side);
    }
    onLangChange(() => this.render());
    this.app.onWindowChange(() => {
      if (this.loadedKey) void this.load();
    });
  }

  show(): void {
    void this.load();
  }

  private window(): { from: string; to: string } {
    const to = addDaysIso(this.app.window.to, 1);
    return { from: addDaysIso(to, -TREND_DAYS), to };
  }

  private async load(): Promise<void> {
    const w = this.window();
    const key = `${w.from}|${w.to}|${this.level}`;
    if (key === this.loadedKey) return;
    this.loadedKey = key;
    if (!offers('/api/v1/coverage/summary')) {
      this.state = 'na';
      this.render();
      return;
    }
    this.state = 'loading';
    this.render();
    try {
      const [summary, hazards, works, grids] = await Promise.all([
        api<{ areas: AreaRow[] }>(withQuery('/api/v1/coverage/summary', { level: this.level, ...w })),
        offers('/api/v1/hazards') ? api<{ items: Hazard[] }>('/api/v1/hazards?limit=10000') : Promise.resolve({ items: [] as Hazard[] }),
        this.works.size ? Promise.resolve(null) : loadAll('/api/v1/projects'),
        this.level === 'grid' && this.gridTowns.size === 0 ? loadGrids() : Promise.resolve(null),
      ]);
      for (const g of grids?.features ?? []) this.gridTowns.set(String(g.id), String(g.properties.town ?? ''));
      this.areas = summary.areas;
      this.hazards = hazards.items;
      if (works) {
        for (const f of works.features) {
          this.works.set(Number(f.id), { name: String(f.properties.name ?? ''), code: String(f.properties.code ?? ''), town: String(f.properties.town ?? '') });
        }
      }
      this.state = 'ready';
    } catch (e) {
      this.loadedKey = '';
      this.state = 'error';
      this.error = this.app.errorText(e);
    }
    this.render();
  }

  /** The areas the chart and table show: every town, or the grids of the chosen town. */
  private shownAreas(): AreaRow[] {
    if (this.level === 'town') return this.areas;
    const town = this.town || this.app.towns[0]?.properties.code;
    return this.areas.filter((a) => this.gridTowns.get(a.area) === String(town));
  }

  private render(): void {
    const w = this.window();
    const title = h('h2', { text: `${t('reports.title')} · ${w.from} – ${addDaysIso(w.to, -1)}` });
    this.el.dataset.state = this.state;
    if (this.state === 'na') {
      this.el.replaceChildren(title, h('div', { class: 'notice', 'data-state': 'not-available' }, h('strong', { text: t('common.not_available') }), t('common.not_available_long')));
      return;
    }
    if (this.state === 'loading') {
      this.el.replaceChildren(title, h('p', { class: 'muted', text: t('common.loading') }));
      return;
    }
    if (this.state === 'error') {
      this.el.replaceChildren(title, h('p', { class: 'error', text: this.error }));
      return;
    }
    this.el.replaceChildren(title, this.coverageCard(), this.hazardCard(), this.ledgerCard());
  }

  private coverageCard(): HTMLElement {
    const level = h('select', { id: 'report-level' });
    level.append(h('option', { value: 'town', text: t('reports.by_town') }), h('option', { value: 'grid', text: t('reports.by_grid') }));
    level.value = this.level;
    level.addEventListener('change', () => {
      this.level = level.value as 'town' | 'grid';
      void this.load();
    });
    const town = h('select', { id: 'report-town' });
    for (const f of this.app.towns) town.append(h('option', { value: String(f.properties.code), text: String(f.properties.name) }));
    town.value = this.town || String(this.app.towns[0]?.properties.code ?? '');
    town.hidden = this.level !== 'grid';
    town.addEventListener('change', () => {
      this.town = town.value;
      this.render();
    });
    const areas = this.shownAreas();
    const { weeks, series } = coverageSeries(areas);
    const byArea = new Map(series.map((s) => [s.area, s.values]));
    const chart = h('div', { class: 'chart', id: 'coverage-trend' });
    chart.innerHTML = lineChartSvg(
      weeks.map((d) => d.slice(5)),
      series.map((s) => ({ label: s.label, values: s.values })),
      { title: t('reports.coverage_trend'), max: 100, format: (v) => `${Math.round(v)}%` },
    );
    const pct = (v: number) => `${(v * 100).toFixed(1)}%`;
    const table = h(
      'table',
      { class: 'grid', id: 'coverage-table' },
      h('thead', {}, h('tr', {}, ...['reports.area', 'score.cells', 'score.patrolled_cells', 'score.patrol_coverage', 'score.overdue_cells'].map((k) => h('th', { text: t(k as never) })))),
      h('tbody', {}, ...areas.map((a) => h('tr', {}, h('td', { text: a.name }), h('td', { text: formatNumber(a.cells) }), h('td', { text: formatNumber(a.patrolled_cells) }), h('td', { text: pct(a.ratio) }), h('td', { text: formatNumber(a.overdue_cells) })))),
    );
    const downloads = downloadButtons<AreaRow>({
      name: `${t('reports.coverage')}-${isoDate(new Date())}`,
      rows: () => areas,
      columns: () => [
        { label: t('reports.area'), value: (a) => a.name },
        { label: t('score.cells'), value: (a) => a.cells },
        { label: t('score.patrolled_cells'), value: (a) => a.patrolled_cells },
        { label: t('score.patrol_coverage'), value: (a) => pct(a.ratio) },
        { label: t('score.overdue_cells'), value: (a) => a.overdue_cells },
        ...weeks.map((wk, i) => ({
          label: `${t('reports.week_of')} ${wk}`,
          value: (a: AreaRow) => {
            const v = byArea.get(a.area)?.[i];
            return v === undefined || Number.isNaN(v) ? '' : `${v.toFixed(1)}%`;
          },
        })),
      ],
      server: { path: '/api/v1/coverage/summary', params: { level: this.level, ...this.window() } },
      onError: (e) => this.app.toast(this.app.errorText(e)),
    });
    return h(
      'div',
      { class: 'card', 'data-report': 'coverage' },
      h('h3', { text: t('reports.coverage') }),
      h('div', { class: 'row' }, h('label', { class: 'field' }, h('span', { text: t('reports.level') }), level), h('label', { class: 'field', hidden: this.level !== 'grid' }, h('span', { text: t('common.town') }), town)),
      chart,
      downloads,
      h('div', { style: 'overflow-x:auto' }, table),
    );
  }

  private hazardCard(): HTMLElement {
    const weeks: HazardWeek[] = hazardWeeks(this.hazards, new Date().toISOString());
    const recent = weeks.slice(-26);
    const chart = h('div', { class: 'chart', id: 'hazard-trend' });
    chart.innerHTML = lineChartSvg(
      recent.map((w) => w.week.slice(5)),
      [
        { label: t('reports.found'), values: recent.map((w) => w.found), color: '#d95f02' },
        { label: t('reports.closed'), values: recent.map((w) => w.closed), color: '#1b9e77' },
        { label: t('reports.open'), values: recent.map((w) => w.open), color: '#7570b3' },
      ],
      { title: t('reports.hazard_trend'), format: (v) => String(Math.round(v)) },
    );
    const zh = lang() === 'zh';
    const work = (hz: Hazard) => this.works.get(hz.project_id);
    const columns = () => [
      { label: t('prop.project_name'), value: (hz: Hazard) => work(hz)?.name ?? hz.project_id },
      { label: t('prop.project_code'), value: (hz: Hazard) => work(hz)?.code ?? '' },
      { label: t('common.town'), value: (hz: Hazard) => townName(work(hz)?.town ?? '') },
      { label: t('reports.hazard'), value: (hz: Hazard) => (zh ? hz.kind_zh : tv('hazard', hz.kind)) },
      { label: t('prop.severity'), value: (hz: Hazard) => (zh ? hz.severity_zh : hz.severity) },
      { label: t('prop.status'), value: (hz: Hazard) => (zh ? hz.status_zh : tv('hstatus', hz.status)) },
      { label: t('reports.found_at'), value: (hz: Hazard) => formatDateTime(hz.found_at) },
      { label: t('prop.deadline'), value: (hz: Hazard) => hz.deadline },
      { label: t('reports.days_overdue'), value: (hz: Hazard) => (hz.overdue ? hz.days_overdue : '') },
      { label: t('reports.closed_at'), value: (hz: Hazard) => (hz.closed_at ? formatDateTime(hz.closed_at) : '') },
    ];
    const sorted = [...this.hazards].sort((a, b) => Number(b.overdue) - Number(a.overdue) || b.days_overdue - a.days_overdue || b.found_at.localeCompare(a.found_at));
    const cols = columns();
    const table = h(
      'table',
      { class: 'grid', id: 'hazard-table' },
      h('thead', {}, h('tr', {}, ...cols.map((c) => h('th', { text: c.label })))),
      h('tbody', {}, ...sorted.slice(0, 200).map((hz) => h('tr', { class: hz.overdue ? 'overdue' : '' }, ...cols.map((c) => h('td', { text: String(c.value(hz) ?? '') }))))),
    );
    const downloads = downloadButtons<Hazard>({
      name: `${t('reports.hazards')}-${isoDate(new Date())}`,
      rows: () => sorted,
      columns,
      server: { path: '/api/v1/hazards', params: { limit: 10000 } },
      onError: (e) => this.app.toast(this.app.errorText(e)),
    });
    return h(
      'div',
      { class: 'card', 'data-report': 'hazards' },
      h('h3', { text: `${t('reports.hazards')} (${this.hazards.length})` }),
      chart,
      downloads,
      h('div', { style: 'overflow-x:auto; max-height: 420px; overflow-y: auto' }, table),
    );
  }

  private ledgerCard(): HTMLElement {
    const w = this.app.windowParams();
    const downloads = downloadButtons<never>({
      name: `${t('reports.ledger')}-${this.app.window.from}-${this.app.window.to}`,
      rows: () => [],
      columns: () => [],
      serverCsv: withQuery('/api/v1/ledger', { format: 'csv', ...w }),
      server: { path: '/api/v1/ledger', params: w },
      onError: (e) => this.app.toast(this.app.errorText(e)),
    });
    return h('div', { class: 'card', 'data-report': 'ledger' }, h('h3', { text: t('reports.ledger') }), h('p', { class: 'small muted', text: t('reports.ledger_hint') }), downloads);
  }
}
