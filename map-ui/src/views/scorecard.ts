// The town scorecard: a table (sortable) and a bar chart of one metric.

import type { App } from '../app';
import { api, offers, withQuery } from '../api';
import { barChartSvg } from '../chart';
import { applyI18n, hasKey, lang, onLangChange, t } from '../i18n';
import { addEvaluation, defaultMetric, isRatio, metricsOf, scoreRows, type ItemLabel, type ScoreRow } from '../score';
import { downloadButtons } from '../download';
import { formatNumber, h, townName } from '../util';

export class ScorecardView {
  private readonly app: App;
  private readonly el: HTMLElement;
  private rows: ScoreRow[] = [];
  private itemLabels = new Map<string, ItemLabel>();
  private metric: string | undefined;
  private sortBy: string | null = null;
  private sortDesc = true;
  private loadedKey = '';

  constructor(app: App, el: HTMLElement) {
    this.app = app;
    this.el = el;
  }

  init(): void {
    onLangChange(() => this.render());
    this.app.onWindowChange(() => {
      if (this.loadedKey) void this.load();
    });
  }

  show(): void {
    void this.load();
  }

  private label(metric: string): string {
    const item = this.itemLabels.get(metric);
    if (item) return lang() === 'zh' ? item.zh : item.en;
    const k = `score.${metric}`;
    return hasKey(k) ? t(k) : metric.replace(/_/g, ' ');
  }

  private format(metric: string, v: number | undefined): string {
    if (v === undefined) return '—';
    if (isRatio(metric, this.rows)) return `${(v * 100).toFixed(1)}%`;
    return formatNumber(v);
  }

  private async load(): Promise<void> {
    const w = this.app.windowParams();
    const key = `${w.from}|${w.to}`;
    if (!offers('/api/v1/scorecard')) {
      this.loadedKey = 'na';
      this.el.dataset.state = 'na';
      this.render();
      return;
    }
    if (key === this.loadedKey) return;
    this.loadedKey = key;
    this.el.replaceChildren(h('p', { class: 'muted', text: t('common.loading') }));
    try {
      const data = await api<unknown>(withQuery('/api/v1/scorecard', w));
      this.rows = scoreRows(data);
      this.itemLabels = addEvaluation(this.rows, data);
      this.metric ??= defaultMetric(metricsOf(this.rows));
      this.el.dataset.state = 'ready';
    } catch (e) {
      this.loadedKey = '';
      this.el.dataset.state = 'error';
      this.el.replaceChildren(h('h2', { text: t('score.title') }), h('p', { class: 'error', text: this.app.errorText(e) }));
      return;
    }
    this.render();
  }

  private render(): void {
    const title = h('h2', { text: `${t('score.title')} · ${this.app.window.from} – ${this.app.window.to}` });
    if (this.el.dataset.state === 'na') {
      this.el.replaceChildren(
        h('h2', { text: t('score.title') }),
        h('div', { class: 'notice', 'data-state': 'not-available' }, h('strong', { text: t('common.not_available') }), t('common.not_available_long')),
      );
      return;
    }
    if (this.el.dataset.state !== 'ready') return;
    const metrics = metricsOf(this.rows);
    const nameOf = (r: ScoreRow) => r.name ?? townName(r.town);

    // Chart
    const select = h('select', { id: 'score-metric' });
    for (const m of metrics) select.append(h('option', { value: m, text: this.label(m) }));
    if (this.metric) select.value = this.metric;
    select.addEventListener('change', () => {
      this.metric = select.value;
      this.render();
    });
    const chartBox = h('div', { id: 'score-chart' });
    if (this.metric) {
      const m = this.metric;
      const ratio = isRatio(m, this.rows);
      chartBox.innerHTML = barChartSvg(
        this.rows.map((r) => ({ label: nameOf(r), value: (r.values[m] ?? Number.NaN) * (ratio ? 100 : 1) })),
        { width: 760, labelWidth: 130, title: this.label(m), format: (v) => (ratio ? `${v.toFixed(1)}%` : formatNumber(v)) },
      );
    }

    // Table
    const rows = [...this.rows];
    if (this.sortBy) {
      const k = this.sortBy;
      rows.sort((a, b) => {
        const x = k === '__town' ? nameOf(a).localeCompare(nameOf(b), 'zh-CN') : (a.values[k] ?? -Infinity) - (b.values[k] ?? -Infinity);
        return this.sortDesc ? -x : x;
      });
    }
    const head = h('tr', {}, h('th', { 'data-sort': '__town', text: t('score.town') }), ...metrics.map((m) => h('th', { 'data-sort': m, text: this.label(m) })));
    head.addEventListener('click', (e) => {
      const k = (e.target as HTMLElement).dataset.sort;
      if (!k) return;
      this.sortDesc = this.sortBy === k ? !this.sortDesc : true;
      this.sortBy = k;
      this.render();
    });
    const table = h(
      'table',
      { class: 'grid', id: 'score-table' },
      h('thead', {}, head),
      h('tbody', {}, ...rows.map((r) => h('tr', {}, h('td', { text: nameOf(r) }), ...metrics.map((m) => h('td', { text: this.format(m, r.values[m]) }))))),
    );
    const metricField = h('label', { class: 'field', style: 'max-width:360px' }, h('span', { text: t('score.metric') }), select);
    const downloads = downloadButtons<ScoreRow>({
      name: `${t('score.title')}-${this.app.window.from}-${this.app.window.to}`,
      rows: () => rows,
      columns: () => [
        { label: t('score.town'), value: (r) => nameOf(r) },
        ...metrics.map((m) => ({ label: this.label(m), value: (r: ScoreRow) => this.format(m, r.values[m]) })),
      ],
      server: { path: '/api/v1/scorecard', params: this.app.windowParams() },
      onError: (e) => this.app.toast(this.app.errorText(e)),
    });
    this.el.replaceChildren(title, h('div', { class: 'card' }, metricField, chartBox), h('div', { class: 'card', style: 'overflow-x:auto' }, downloads, table));
    applyI18n(this.el);
  }
}
