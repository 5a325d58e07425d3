// The blind-spot desk: the lists of the blind-spot endpoints with their
// reasons, filtered by town; a click zooms the map to the item.

import type { Feature, Geometry } from 'geojson';
import type { App, Props } from '../app';
import { api, offers, withQuery } from '../api';
import { BLIND_KINDS, blindEndpoint, normalizeBlind, type BlindItem, type BlindKind } from '../blind';
import { applyI18n, lang, onLangChange, t, type MessageKey } from '../i18n';
import { downloadButtons } from '../download';
import { formatDateTime, h, isoDate, townName } from '../util';

export class BlindspotView {
  private readonly app: App;
  private readonly panel: HTMLElement;
  private kind: BlindKind = 'cells';
  private town = '';
  private flaggedOnly = false;
  private items: BlindItem[] = [];
  private data: unknown = null;
  private loaded = false;
  private seq = 0;

  constructor(app: App, panel: HTMLElement) {
    this.app = app;
    this.panel = panel;
  }

  init(): void {
    this.panel.innerHTML = `
      <h2 data-i18n="blind.title"></h2>
      <label class="field"><span data-i18n="blind.kind"></span><select id="blind-kind"></select></label>
      <div class="row">
        <label class="field"><span data-i18n="common.town"></span><select id="blind-town"></select></label>
      </div>
      <label class="small"><input type="checkbox" id="blind-flagged"> <span data-i18n="blind.flagged_only"></span></label>
      <p class="small muted" id="blind-count"></p>
      <div id="blind-body"></div>`;
    const kindSel = this.panel.querySelector('#blind-kind') as HTMLSelectElement;
    const townSel = this.panel.querySelector('#blind-town') as HTMLSelectElement;
    const flagged = this.panel.querySelector('#blind-flagged') as HTMLInputElement;
    kindSel.addEventListener('change', () => {
      this.kind = kindSel.value as BlindKind;
      void this.load();
    });
    townSel.addEventListener('change', () => {
      this.town = townSel.value;
      void this.load();
    });
    flagged.addEventListener('change', () => {
      this.flaggedOnly = flagged.checked;
      this.render();
    });
    this.fillSelects();
    applyI18n(this.panel);
    onLangChange(() => {
      this.fillSelects();
      if (this.data !== null) this.items = normalizeBlind(this.kind, this.data, lang());
      this.render();
    });
    this.app.onWindowChange(() => {
      if (this.loaded) void this.load();
    });
  }

  /** Called when the desk is shown (it loads on first view). */
  show(): void {
    this.fillSelects();
    if (!this.loaded) void this.load();
  }

  private fillSelects(): void {
    const kindSel = this.panel.querySelector('#blind-kind') as HTMLSelectElement;
    const townSel = this.panel.querySelector('#blind-town') as HTMLSelectElement;
    kindSel.replaceChildren(
      ...BLIND_KINDS.map((k) => {
        const o = h('option', { value: k, text: t(`blind.${k}` as MessageKey) });
        if (!offers(blindEndpoint(k, {}).template)) o.textContent += ` (${t('common.not_available')})`;
        return o;
      }),
    );
    kindSel.value = this.kind;
    townSel.replaceChildren(
      h('option', { value: '', text: t('common.all_towns') }),
      ...this.app.towns.map((f) => h('option', { value: String(f.properties.code), text: String(f.properties.name) })),
    );
    townSel.value = this.town;
  }

  private async load(): Promise<void> {
    this.loaded = true;
    const seq = ++this.seq;
    const body = this.panel.querySelector('#blind-body') as HTMLElement;
    const { template, params } = blindEndpoint(this.kind, { town: this.town || undefined, ...this.app.windowParams() });
    this.items = [];
    this.data = null;
    if (!offers(template)) {
      body.replaceChildren(notAvailable());
      this.setCount(null);
      this.panel.dataset.state = 'na';
      return;
    }
    body.replaceChildren(h('p', { class: 'muted', text: t('common.loading') }));
    try {
      const data = await api<unknown>(withQuery(template, params));
      if (seq !== this.seq) return;
      this.data = data;
      this.items = normalizeBlind(this.kind, data, lang());
      this.render();
      this.panel.dataset.state = 'ready';
    } catch (e) {
      if (seq !== this.seq) return;
      body.replaceChildren(h('p', { class: 'error', text: this.app.errorText(e) }));
      this.panel.dataset.state = 'error';
    }
  }

  private visibleItems(): BlindItem[] {
    return this.items.filter((i) => (!this.town || !i.town || i.town === this.town) && (!this.flaggedOnly || i.flagged !== false));
  }

  private setCount(n: number | null): void {
    const el = this.panel.querySelector('#blind-count') as HTMLElement;
    el.textContent = n === null ? '' : t('common.count', { n });
  }

  private render(): void {
    const body = this.panel.querySelector('#blind-body') as HTMLElement | null;
    if (!body || this.panel.dataset.state === 'na') return;
    const items = this.visibleItems();
    this.setCount(items.length);
    if (items.length === 0) {
      body.replaceChildren(h('p', { class: 'muted', text: t('common.empty') }));
      return;
    }
    const ul = h('ul', { class: 'list', id: 'blind-list' });
    for (const item of items.slice(0, 500)) {
      const sub: string[] = [];
      if (item.town) sub.push(townName(item.town));
      if (item.distance !== undefined) sub.push(t('blind.distance', { n: Math.round(item.distance) }));
      if (typeof item.raw.risk === 'number') sub.push(t('blind.risk', { n: Math.round(item.raw.risk * 10) / 10 }));
      const li = h(
        'li',
        { 'data-key': item.key },
        h('div', { class: 'title' }, item.title, item.flagged ? h('span', { class: 'badge warn', text: '!' }) : null),
        sub.length ? h('div', { class: 'sub', text: sub.join(' · ') }) : null,
        item.reasons.length ? h('ul', { class: 'reasons' }, ...item.reasons.map((r) => h('li', { text: r }))) : null,
      );
      li.addEventListener('click', () => {
        ul.querySelectorAll('li.active').forEach((x) => x.classList.remove('active'));
        li.classList.add('active');
        void this.zoomTo(item);
      });
      ul.append(li);
    }
    body.replaceChildren(this.downloads(), ul);
  }

  /** CSV and GeoJSON of the list as shown (town and flag filters applied). */
  private downloads(): HTMLElement {
    const { template, params } = blindEndpoint(this.kind, { town: this.town || undefined, ...this.app.windowParams() });
    const zh = lang() === 'zh';
    return downloadButtons<BlindItem>({
      name: `${t(`blind.${this.kind}` as MessageKey)}-${isoDate(new Date())}`,
      rows: () => this.visibleItems(),
      columns: () => [
        { label: t('prop.rank'), value: (i) => this.visibleItems().indexOf(i) + 1 },
        { label: t('prop.name'), value: (i) => i.title },
        { label: t('common.town'), value: (i) => (i.town ? townName(i.town) : '') },
        { label: t('prop.risk'), value: (i) => i.raw.risk },
        { label: t('prop.distance_m'), value: (i) => (i.distance === undefined ? '' : Math.round(i.distance)) },
        { label: t('prop.last_patrolled'), value: (i) => (typeof i.raw.last_patrolled === 'string' ? formatDateTime(i.raw.last_patrolled) : '') },
        { label: t('blind.reasons'), value: (i) => i.reasons.join(zh ? '；' : '; ') },
        { label: t('prop.code'), value: (i) => i.raw.cell ?? i.raw.project_code ?? i.raw.code ?? '' },
      ],
      geometry: (i) => i.geometry,
      server: { path: template, params },
      onError: (e) => this.app.toast(this.app.errorText(e)),
    });
  }

  private async zoomTo(item: BlindItem): Promise<void> {
    const mv = this.app.mapView;
    let feature: Feature<Geometry, Props> | null = null;
    try {
      if (item.projectId !== undefined && (this.kind.startsWith('works.') || this.kind === 'near_venues')) {
        feature = await api<Feature<Geometry, Props>>(`/api/v1/projects/${item.projectId}`);
      }
      if (this.kind === 'districts' && item.districtId !== undefined) {
        feature = await api<Feature<Geometry, Props>>(`/api/v1/districts/${item.districtId}`);
      }
      if (!feature && !item.geometry && item.venueId !== undefined) {
        feature = await api<Feature<Geometry, Props>>(`/api/v1/venues/${item.venueId}`);
      }
    } catch (e) {
      this.app.toast(this.app.errorText(e));
    }
    const geom = feature?.geometry ?? item.geometry;
    if (!geom) return;
    mv.zoomTo(geom, this.kind === 'cells' ? 16 : 17);
    if (feature) {
      const kind = this.kind === 'districts' ? 'district' : this.kind === 'near_venues' || this.kind.startsWith('works.') ? 'project' : 'venue';
      // The details show the blind spot's own figures next to the feature's.
      const extra = this.kind === 'districts' ? pickNumbers(item.raw) : {};
      await this.app.showDetails(kind, { ...feature, properties: { ...feature.properties, ...extra } });
      mv.highlight(geom);
    } else {
      const kind = this.kind === 'districts' ? 'district' : 'cell';
      await this.app.showDetails(kind, { type: 'Feature', geometry: geom, properties: { ...item.raw, reasons: undefined } as Props });
    }
  }
}

function notAvailable(): HTMLElement {
  return h('div', { class: 'notice', 'data-state': 'not-available' }, h('strong', { text: t('common.not_available') }), t('common.not_available_long'));
}

function pickNumbers(raw: Record<string, unknown>): Props {
  const keep = ['works', 'discovered_unfiled', 'patrol_coverage', 'patrolled_cells', 'overdue_cells', 'days_since_last_patrol', 'flagged'];
  const r: Props = {};
  for (const k of keep) if (raw[k] !== undefined && raw[k] !== null) r[k] = raw[k];
  return r;
}
