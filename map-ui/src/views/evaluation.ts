// The half-year evaluation (小微工程管理专项评价): every town's six items
// measured from the records, with a chart to compare towns; the town's
// self-assessment form with the measured values beside its claims; for
// district staff the on-site evaluation (towns picked, the reproducible
// draw of works, the field checklist) and the draft 通报 as Word, a page
// and a workbook.

import type { App } from '../app';
import { api, apiBlob, offers } from '../api';
import { barChartSvg } from '../chart';
import { saveBlob } from '../download';
import { lang, onLangChange } from '../i18n';
import { formatDateTime, h } from '../util';
import { TEXT, type TextKey } from './evaluation-text';

interface Measure {
  key: string;
  label_zh: string;
  label_en: string;
  unit: string;
  value?: number | null;
  numerator?: number | null;
  denominator?: number | null;
  declared?: boolean | null;
  review?: string | null;
  points: number;
  score: number;
}
interface Item {
  item: string;
  label_zh: string;
  label_en: string;
  bonus: boolean;
  points: number;
  score: number;
  measures: Measure[];
}
interface Evidence {
  title: string;
  number?: string;
}
interface Claim {
  item: string;
  score: number;
  evidence?: Evidence[];
  problems?: string;
  plan?: string;
  measures?: string;
}
interface Declaration {
  key: string;
  declared: boolean;
  evidence?: Evidence[];
  review?: string;
  review_note?: string;
}
interface Assessment {
  status: string;
  status_zh: string;
  submitted_by?: string | null;
  submitted_at?: string | null;
  claimed_total: number;
  body: { claims: Claim[]; declarations: Declaration[]; summary: string };
}
interface DrawnWork {
  project_id: number;
  code: string;
  name: string;
  funding_zh: string;
  category_zh: string;
  comparison: { filed: boolean; inspections: number; recorded: string[]; found?: string[] | null; missed: string[] };
  finding?: { problems: string[]; note: string; visited: boolean } | null;
}
interface Draw {
  seed: number;
  size: number;
  candidates: number;
  redraws: boolean;
  works: DrawnWork[];
  summary: { drawn: number; visited: number; problems_found: number; problems_recorded: number };
}
interface TownEval {
  town: string;
  town_name: string;
  measured: { items: Item[]; total: number; bonus: number };
  self_assessment?: Assessment | null;
  disagreements: Array<{ item: string; text_zh: string; text: string }>;
  on_site: boolean;
  draw?: Draw | null;
}
interface Period {
  id: number;
  period: string;
  period_zh: string;
  site_towns: string[];
  from: string;
  to: string;
}
interface Overview {
  evaluation: Period;
  submitted: number;
  towns: TownEval[];
}
interface Who {
  role: string;
}

const tx = (k: TextKey, vars: Record<string, string | number> = {}): string =>
  TEXT[k][lang() === 'zh' ? 0 : 1].replace(/\{(\w+)\}/g, (_, n: string) => String(vars[n] ?? ''));
const label = (x: { label_zh: string; label_en: string }) => (lang() === 'zh' ? x.label_zh : x.label_en);
const num = (v: number) => (Number.isInteger(v) ? String(v) : v.toFixed(1));

function measureText(m: Measure): string {
  if (m.declared !== null && m.declared !== undefined) return m.declared ? tx('declared') : tx('not_declared');
  if (m.value === null || m.value === undefined) return '—';
  const frac = m.denominator !== null && m.denominator !== undefined ? ` (${m.numerator}/${m.denominator})` : '';
  return m.unit === 'share' ? `${(m.value * 100).toFixed(0)}%${frac}` : `${num(Math.round(m.value * 100) / 100)}${frac}`;
}

export class EvaluationView {
  private readonly app: App;
  private readonly el: HTMLElement;
  private readonly who: () => Who | null;
  private periods: Period[] = [];
  private periodId: number | null = null;
  private overview: Overview | null = null;
  private town = '';
  private chartItem = 'total';
  private problems: Array<{ code: string; label_zh: string }> = [];

  constructor(app: App, el: HTMLElement, who: () => Who | null) {
    this.app = app;
    this.el = el;
    this.who = who;
  }

  init(): void {
    onLangChange(() => this.render());
  }

  private get district(): boolean {
    return this.who()?.role === 'admin';
  }

  async show(): Promise<void> {
    if (!offers('/api/v1/evaluations')) {
      this.el.replaceChildren(h('h2', { text: tx('title') }), h('p', { class: 'muted', text: tx('na') }));
      return;
    }
    this.el.dataset.state = 'loading';
    try {
      const [list, table] = await Promise.all([
        api<{ items: Period[] }>('/api/v1/evaluations'),
        api<{ table: { title: string; items: Array<{ label_zh: string; label_en: string; bonus: boolean; measures: Array<{ points: number }> }> }; site_problems: Array<{ code: string; label_zh: string }> }>(
          '/api/v1/evaluation-table',
        ),
      ]);
      this.periods = list.items;
      this.problems = table.site_problems;
      const side = document.getElementById('panel-evaluation-side');
      if (side) {
        const items = table.table.items.map((i) =>
          h('li', { text: `${label(i)} ${num(i.measures.reduce((a, m) => a + m.points, 0))}${tx(i.bonus ? 'points_bonus' : 'points')}` }),
        );
        side.replaceChildren(h('h2', { text: tx('title') }), h('p', { class: 'small muted', text: tx('side_intro') }), h('h3', { text: table.table.title }), h('ul', { class: 'small' }, ...items));
      }
      this.periodId ??= this.periods[0]?.id ?? null;
      await this.load();
    } catch (e) {
      this.el.replaceChildren(h('h2', { text: tx('title') }), h('p', { class: 'error', text: this.app.errorText(e) }));
    }
  }

  private async load(): Promise<void> {
    this.overview = this.periodId === null ? null : await api<Overview>(`/api/v1/evaluations/${this.periodId}`);
    if (this.overview && !this.overview.towns.some((t) => t.town === this.town)) this.town = this.overview.towns[0]?.town ?? '';
    this.el.dataset.state = 'ready';
    this.render();
  }

  private async act(run: () => Promise<unknown>, done: TextKey): Promise<void> {
    try {
      await run();
      this.app.toast(tx(done));
      await this.load();
    } catch (e) {
      this.app.toast(this.app.errorText(e));
    }
  }

  private render(): void {
    if (this.el.dataset.state !== 'ready') return;
    const head = this.header();
    const o = this.overview;
    if (!o) {
      this.el.replaceChildren(head, h('p', { class: 'muted', text: tx('no_period') }));
      return;
    }
    const town = o.towns.find((t) => t.town === this.town);
    this.el.replaceChildren(
      head,
      this.results(o),
      town ? this.assessment(o, town) : '',
      this.district ? this.onSite(o) : '',
    );
  }

  private header(): HTMLElement {
    const select = h('select', { id: 'eval-period' });
    for (const p of this.periods) select.append(h('option', { value: String(p.id), text: p.period_zh }));
    if (this.periodId !== null) select.value = String(this.periodId);
    select.addEventListener('change', () => {
      this.periodId = Number(select.value);
      void this.load();
    });
    const box = h('div', { class: 'row eval-head' }, h('h2', { text: tx('title') }), h('label', { class: 'field' }, h('span', { text: tx('period') }), select));
    if (this.district) {
      const input = h('input', { id: 'eval-new-period', placeholder: '2026H2', size: '8' });
      const open = h('button', { type: 'button', text: tx('open') });
      open.addEventListener('click', () => {
        void this.act(async () => {
          const p = await api<Period>('/api/v1/evaluations', { method: 'POST', body: { period: input.value.trim() } });
          this.periodId = p.id;
          this.periods = [p, ...this.periods];
        }, 'opened');
      });
      box.append(h('label', { class: 'field' }, h('span', { text: tx('new_period') }), input), open);
    }
    return box;
  }

  private results(o: Overview): HTMLElement {
    const items = o.towns[0]?.measured.items ?? [];
    const chartSel = h('select', { id: 'eval-chart-item' });
    chartSel.append(h('option', { value: 'total', text: tx('total') }));
    for (const i of items) chartSel.append(h('option', { value: i.item, text: label(i) }));
    chartSel.value = this.chartItem;
    chartSel.addEventListener('change', () => {
      this.chartItem = chartSel.value;
      this.render();
    });
    const value = (t: TownEval) =>
      this.chartItem === 'total' ? t.measured.total + t.measured.bonus : (t.measured.items.find((i) => i.item === this.chartItem)?.score ?? Number.NaN);
    const chart = h('div', { id: 'eval-chart' });
    chart.innerHTML = barChartSvg(
      o.towns.map((t) => ({ label: t.town_name, value: value(t) })),
      { width: 760, labelWidth: 130, title: chartSel.selectedOptions[0]?.text ?? '', format: num, color: '#2f855a' },
    );
    const headRow = h('tr', {}, h('th', { text: tx('town') }), ...items.map((i) => h('th', { text: `${label(i)}（${num(i.points)}）` })), h('th', { text: tx('total') }), h('th', { text: tx('self') }), h('th', { text: tx('flags') }));
    const body = h('tbody');
    for (const t of o.towns) {
      const sa = t.self_assessment;
      const tr = h(
        'tr',
        { class: t.town === this.town ? 'selected' : undefined, 'data-town': t.town },
        h('td', { text: t.town_name + (t.on_site ? ' ★' : '') }),
        ...t.measured.items.map((i) => h('td', { class: i.score < i.points ? 'short' : undefined, text: num(i.score) })),
        h('td', { text: num(t.measured.total + t.measured.bonus) }),
        h('td', { text: sa ? `${tx(sa.status === 'submitted' ? 'status_submitted' : 'status_draft')} ${num(sa.claimed_total)}` : tx('not_filled') }),
        h('td', { class: t.disagreements.length ? 'flag' : undefined, text: t.disagreements.map((d) => (lang() === 'zh' ? d.text_zh : d.text)).join('；') }),
      );
      tr.addEventListener('click', () => {
        this.town = t.town;
        this.render();
      });
      body.append(tr);
    }
    const table = h('table', { class: 'grid', id: 'eval-table' }, h('thead', {}, headRow), body);
    const file = async (format: string, ext: string) => {
      const path = format === 'docx' ? `/api/v1/evaluations/${o.evaluation.id}/report.docx` : `/api/v1/evaluations/${o.evaluation.id}/report?format=${format}`;
      saveBlob(await apiBlob(path), `${o.evaluation.period_zh}${tx(format === 'xlsx' ? 'workbook_name' : 'notice_name')}.${ext}`);
    };
    const downloads = h('div', { class: 'downloads', 'data-download': 'evaluation' }, h('span', { class: 'small muted', text: tx('downloads') }));
    for (const [f, ext, key] of [['docx', 'docx', 'dl_docx'], ['html', 'html', 'dl_html'], ['xlsx', 'xlsx', 'dl_xlsx']] as const) {
      const b = h('button', { type: 'button', class: 'chip', 'data-format': f, text: tx(key) });
      b.addEventListener('click', () => void file(f, ext).catch((e) => this.app.toast(this.app.errorText(e))));
      downloads.append(b);
    }
    const meta = h('p', { class: 'small muted', text: tx('meta', { from: formatDateTime(o.evaluation.from), to: formatDateTime(o.evaluation.to), n: o.submitted, m: o.towns.length }) });
    return h('div', { class: 'card', style: 'overflow-x:auto' }, h('h3', { text: tx('results') }), meta, h('label', { class: 'field', style: 'max-width:360px' }, h('span', { text: tx('chart') }), chartSel), chart, downloads, table);
  }

  private assessment(o: Overview, t: TownEval): HTMLElement {
    const sa = t.self_assessment;
    const submitted = sa?.status === 'submitted';
    const mayEdit = !submitted && (this.who()?.role === 'town' || this.district);
    const claims = new Map((sa?.body.claims ?? []).map((c) => [c.item, c]));
    const decls = new Map((sa?.body.declarations ?? []).map((d) => [d.key, d]));
    const form = h('form', { id: 'eval-form', class: 'eval-form' });
    for (const i of t.measured.items) {
      const c = claims.get(i.item);
      const rows = i.measures.map((m) => {
        const d = decls.get(m.key);
        const cells: Array<Node | string> = [h('span', { text: label(m) }), h('span', { class: 'muted', text: `${measureText(m)} → ${num(m.score)}/${num(m.points)}` })];
        if (m.declared !== null && m.declared !== undefined) {
          cells.push(
            h('label', {}, h('input', { type: 'checkbox', name: `decl:${m.key}`, checked: d?.declared ?? false, disabled: !mayEdit }), tx('declare')),
            h('input', { name: `ev:${m.key}`, placeholder: tx('evidence_ph'), value: (d?.evidence ?? []).map((e) => e.title).join('；'), disabled: !mayEdit }),
            d?.review && d.review !== 'pending' ? h('span', { class: d.review === 'rejected' ? 'flag' : 'ok', text: tx(d.review === 'rejected' ? 'rejected' : 'confirmed') }) : '',
          );
          if (this.district && submitted && d?.declared) {
            for (const r of ['confirmed', 'rejected'] as const) {
              const b = h('button', { type: 'button', class: 'chip', text: tx(r === 'confirmed' ? 'confirm' : 'reject') });
              b.addEventListener('click', () => void this.act(() => api(`/api/v1/evaluations/${o.evaluation.id}/self-assessments/${t.town}/review`, { method: 'POST', body: [{ key: m.key, review: r }] }), 'saved'));
              cells.push(b);
            }
          }
        }
        return h('div', { class: 'eval-measure' }, ...cells);
      });
      form.append(
        h(
          'fieldset',
          { 'data-item': i.item },
          h('legend', { text: `${label(i)} · ${tx('measured')} ${num(i.score)}/${num(i.points)}` }),
          ...rows,
          h('label', { class: 'field' }, h('span', { text: tx('claim') }), h('input', { type: 'number', name: `score:${i.item}`, min: '0', max: String(i.points), step: '0.5', value: c ? String(c.score) : '', disabled: !mayEdit })),
          h('label', { class: 'field' }, h('span', { text: tx('problems') }), h('textarea', { name: `problems:${i.item}`, rows: '2', disabled: !mayEdit }, c?.problems ?? '')),
          h('label', { class: 'field' }, h('span', { text: tx('plan') }), h('textarea', { name: `plan:${i.item}`, rows: '2', disabled: !mayEdit }, c?.plan ?? '')),
        ),
      );
    }
    const title = h('h3', { text: tx('sa_title', { town: t.town_name }) });
    const status = h('p', { class: 'small muted', text: sa ? `${tx(submitted ? 'status_submitted' : 'status_draft')}${sa.submitted_at ? ` · ${formatDateTime(sa.submitted_at)} · ${sa.submitted_by ?? ''}` : ''}` : tx('not_filled') });
    const flags = t.disagreements.length ? h('ul', { class: 'flag-list' }, ...t.disagreements.map((d) => h('li', { class: 'flag', text: lang() === 'zh' ? d.text_zh : d.text }))) : '';
    const out = h('div', { class: 'card', id: 'eval-self' }, title, status, flags, form);
    if (mayEdit) {
      const send = (submit: boolean) =>
        void this.act(
          () => api(`/api/v1/evaluations/${o.evaluation.id}/self-assessments/${t.town}${submit ? '/submit' : ''}`, { method: submit ? 'POST' : 'PUT', body: this.formBody(form, t) }),
          submit ? 'submitted' : 'saved',
        );
      const save = h('button', { type: 'button', text: tx('save') });
      save.addEventListener('click', () => send(false));
      const submit = h('button', { type: 'button', class: 'primary', text: tx('submit') });
      submit.addEventListener('click', () => send(true));
      out.append(h('div', { class: 'row' }, save, submit));
    }
    return out;
  }

  private formBody(form: HTMLFormElement, t: TownEval): unknown {
    const f = new FormData(form);
    const text = (k: string) => String(f.get(k) ?? '').trim();
    const claims: Claim[] = [];
    const declarations: Declaration[] = [];
    for (const i of t.measured.items) {
      const s = text(`score:${i.item}`);
      if (s !== '') claims.push({ item: i.item, score: Number(s), problems: text(`problems:${i.item}`), plan: text(`plan:${i.item}`) });
      for (const m of i.measures) {
        if (m.declared === null || m.declared === undefined) continue;
        const evidence = text(`ev:${m.key}`).split(/[；;\n]/).map((x) => x.trim()).filter(Boolean).map((title) => ({ title }));
        declarations.push({ key: m.key, declared: f.get(`decl:${m.key}`) !== null, evidence });
      }
    }
    return { claims, declarations, summary: '' };
  }

  private onSite(o: Overview): HTMLElement {
    const picks = h('div', { class: 'eval-towns' });
    for (const t of o.towns) picks.append(h('label', {}, h('input', { type: 'checkbox', value: t.town, checked: t.on_site }), t.town_name));
    const save = h('button', { type: 'button', text: tx('pick') });
    save.addEventListener('click', () => {
      const towns = [...picks.querySelectorAll<HTMLInputElement>('input:checked')].map((i) => i.value);
      void this.act(() => api(`/api/v1/evaluations/${o.evaluation.id}/site-towns`, { method: 'PUT', body: { towns } }), 'saved');
    });
    const out = h('div', { class: 'card', id: 'eval-site' }, h('h3', { text: tx('site_title') }), picks, save);
    for (const t of o.towns.filter((x) => x.on_site)) out.append(this.siteTown(o, t));
    return out;
  }

  private siteTown(o: Overview, t: TownEval): HTMLElement {
    const box = h('section', { class: 'eval-site-town', 'data-town': t.town }, h('h4', { text: t.town_name }));
    const d = t.draw;
    if (!d) {
      const size = h('input', { type: 'number', min: '1', max: '50', value: '5', name: 'size' });
      const seed = h('input', { type: 'number', min: '0', name: 'seed', placeholder: tx('seed_ph') });
      const go = h('button', { type: 'button', class: 'primary', text: tx('draw') });
      go.addEventListener('click', () =>
        void this.act(() => api(`/api/v1/evaluations/${o.evaluation.id}/draws/${t.town}`, { method: 'POST', body: { size: Number(size.value), seed: seed.value ? Number(seed.value) : undefined } }), 'drawn'),
      );
      box.append(h('div', { class: 'row' }, h('label', { class: 'field' }, h('span', { text: tx('size') }), size), h('label', { class: 'field' }, h('span', { text: tx('seed') }), seed), go));
      return box;
    }
    box.append(h('p', { class: 'small muted', text: tx('draw_meta', { seed: d.seed, n: d.works.length, c: d.candidates, ok: d.redraws ? tx('redraw_ok') : tx('redraw_bad') }) }));
    box.append(h('p', { class: 'small', text: tx('draw_summary', { v: d.summary.visited, f: d.summary.problems_found, r: d.summary.problems_recorded }) }));
    const name = (c: string) => this.problems.find((p) => p.code === c)?.label_zh ?? c;
    for (const w of d.works) {
      const found = new Set(w.finding?.problems ?? []);
      const checks = h('div', { class: 'eval-checks' }, ...this.problems.map((p) => h('label', {}, h('input', { type: 'checkbox', value: p.code, checked: found.has(p.code) }), p.label_zh)));
      const note = h('input', { placeholder: tx('note'), value: w.finding?.note ?? '' });
      const save = h('button', { type: 'button', text: tx('record') });
      save.addEventListener('click', () => {
        const problems = [...checks.querySelectorAll<HTMLInputElement>('input:checked')].map((i) => i.value);
        void this.act(() => api(`/api/v1/evaluations/${o.evaluation.id}/findings/${w.project_id}`, { method: 'PUT', body: { problems, note: note.value } }), 'saved');
      });
      const cmp = w.comparison;
      const facts = tx('work_facts', { filed: cmp.filed ? tx('filed') : tx('unfiled'), n: cmp.inspections, missed: cmp.missed.map(name).join('、') || '—' });
      box.append(h('details', { class: 'eval-work', open: !w.finding }, h('summary', { text: `${w.name} · ${w.funding_zh} · ${w.category_zh}${w.finding ? ' ✓' : ''}` }), h('p', { class: 'small', text: facts }), checks, h('div', { class: 'row' }, note, save)));
    }
    return box;
  }
}
