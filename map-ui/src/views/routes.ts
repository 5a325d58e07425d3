// The route planner: a grid, a start picked on the map, a shift length and a
// travel mode; POST /api/v1/routes; the route, its numbered stops, what was
// left out, and the GPX.

import L from 'leaflet';
import type { Geometry } from 'geojson';
import type { App, Props } from '../app';
import { api, apiBlob, offers, type Schemas } from '../api';
import { applyI18n, lang, onLangChange, t, tv } from '../i18n';
import { reasonText } from '../blind';
import { ROUTE_COLOR } from '../colors';
import { addDays, formatTime, h, isoDate, townName } from '../util';
import { loadGrids } from './coverage';

export type RouteStop = Schemas['RouteStop'];

/** The planning answer of POST /api/v1/routes. */
export type RouteAnswer = Schemas['PlannedRoute'];

export class RouteView {
  private readonly app: App;
  private readonly panel: HTMLElement;
  private readonly mapEl: HTMLElement;
  private start: [number, number] | null = null;
  private picking = false;
  private gridIds = new Map<string, { id: number; geometry: Geometry }>();
  private answer: RouteAnswer | null = null;
  private active = false;

  constructor(app: App, panel: HTMLElement, mapEl: HTMLElement) {
    this.app = app;
    this.panel = panel;
    this.mapEl = mapEl;
  }

  init(): void {
    const tomorrow = isoDate(addDays(new Date(), 1));
    this.panel.innerHTML = `
      <h2 data-i18n="route.title"></h2>
      <div id="route-na"></div>
      <label class="field"><span data-i18n="route.grid"></span><select id="route-grid"></select></label>
      <div class="field"><span data-i18n="route.start"></span>
        <div class="row" style="align-items:center">
          <button type="button" class="secondary" id="route-pick" data-i18n="route.pick_start"></button>
          <span class="small muted" id="route-start-text"></span>
        </div>
      </div>
      <label class="field"><span data-i18n="route.shift"></span>
        <div class="row" style="align-items:center"><input type="range" id="route-shift" min="60" max="480" step="30" value="180" style="flex:1"><span id="route-shift-text" class="small"></span></div>
      </label>
      <div class="field"><span data-i18n="route.kind"></span>
        <div class="chips" id="route-kind">
          <button type="button" class="chip active" data-kind="patrol" data-i18n="route.kind_patrol"></button>
          <button type="button" class="chip" data-kind="sweep" data-i18n="route.kind_sweep"></button>
        </div>
      </div>
      <div class="field"><span data-i18n="route.mode"></span>
        <div class="chips" id="route-mode">
          <button type="button" class="chip active" data-mode="walk" data-i18n="route.walk"></button>
          <button type="button" class="chip" data-mode="ebike" data-i18n="route.ebike"></button>
        </div>
      </div>
      <div class="row">
        <label class="field"><span data-i18n="route.service"></span><input type="number" id="route-service" min="0" max="120" value="10"></label>
        <label class="field"><span data-i18n="route.date"></span><input type="date" id="route-date" value="${tomorrow}"></label>
      </div>
      <p><button type="button" class="primary" id="route-plan" data-i18n="route.plan"></button></p>
      <div id="route-result"></div>`;
    applyI18n(this.panel);
    const q = <T extends HTMLElement>(s: string) => this.panel.querySelector(s) as T;
    q<HTMLSelectElement>('#route-grid').addEventListener('change', (e) => {
      const g = this.gridIds.get((e.target as HTMLSelectElement).value);
      if (g) {
        this.app.mapView.zoomTo(g.geometry, 16);
        this.app.mapView.highlight(g.geometry);
      }
    });
    q<HTMLButtonElement>('#route-pick').addEventListener('click', () => this.setPicking(!this.picking));
    q<HTMLInputElement>('#route-shift').addEventListener('input', () => this.renderShift());
    for (const group of ['#route-mode', '#route-kind']) {
      q(group).addEventListener('click', (e) => {
        const b = (e.target as HTMLElement).closest<HTMLButtonElement>('button');
        if (!b) return;
        q(group).querySelectorAll('button').forEach((x) => x.classList.toggle('active', x === b));
      });
    }
    q<HTMLButtonElement>('#route-plan').addEventListener('click', () => void this.plan());
    this.app.mapView.map.on('click', (ev: L.LeafletMouseEvent) => {
      if (!this.active || !this.picking) return;
      this.start = this.app.mapView.fromLatLng(ev.latlng);
      this.picking = false;
      this.mapEl.classList.remove('picking');
      this.drawStart();
      // Details stay off until this click has reached every handler.
      window.setTimeout(() => (this.app.picking = false), 0);
    });
    onLangChange(() => {
      this.renderShift();
      this.renderStart();
      this.renderAvailability();
      if (this.answer) this.renderResult(this.answer);
    });
    this.renderShift();
    this.renderStart();
    this.renderAvailability();
  }

  show(): void {
    this.active = true;
    this.renderAvailability();
    void this.loadGridOptions();
  }

  hide(): void {
    this.active = false;
    this.setPicking(false);
  }

  private renderAvailability(): void {
    const na = this.panel.querySelector('#route-na') as HTMLElement;
    const available = offers('/api/v1/routes', 'post');
    this.panel.dataset.state = available ? 'ready' : 'na';
    (this.panel.querySelector('#route-plan') as HTMLButtonElement).disabled = !available;
    na.replaceChildren(
      ...(available
        ? []
        : [h('div', { class: 'notice', 'data-state': 'not-available' }, h('strong', { text: t('common.not_available') }), t('common.not_available_long'))]),
    );
  }

  private async loadGridOptions(): Promise<void> {
    const sel = this.panel.querySelector('#route-grid') as HTMLSelectElement;
    if (this.gridIds.size > 0) return;
    sel.replaceChildren(h('option', { value: '', text: t('common.loading') }));
    try {
      const fc = await loadGrids();
      const byTown = new Map<string, HTMLOptGroupElement>();
      const opts: HTMLElement[] = [h('option', { value: '', 'data-i18n': 'route.choose_grid', text: t('route.choose_grid') })];
      const sorted = [...fc.features].sort((a, b) => String(a.properties.code).localeCompare(String(b.properties.code)));
      for (const f of sorted) {
        const town = String(f.properties.town);
        let group = byTown.get(town);
        if (!group) {
          group = h('optgroup', { label: townName(town) });
          byTown.set(town, group);
          opts.push(group);
        }
        const id = String(f.id);
        this.gridIds.set(id, { id: Number(f.id), geometry: f.geometry });
        group.append(h('option', { value: id, text: `${String(f.properties.name)} (${String(f.properties.manager ?? '')})` }));
      }
      sel.replaceChildren(...opts);
    } catch (e) {
      sel.replaceChildren(h('option', { value: '', text: this.app.errorText(e) }));
    }
  }

  private setPicking(on: boolean): void {
    this.picking = on;
    // A click on a cell or a work sets the start; it opens no details.
    this.app.picking = on;
    this.mapEl.classList.toggle('picking', on);
    this.renderStart();
  }

  private renderShift(): void {
    const v = Number((this.panel.querySelector('#route-shift') as HTMLInputElement).value);
    (this.panel.querySelector('#route-shift-text') as HTMLElement).textContent = t('route.hours', { n: (v / 60).toFixed(1).replace(/\.0$/, '') });
  }

  private renderStart(): void {
    const el = this.panel.querySelector('#route-start-text') as HTMLElement;
    el.textContent = this.picking ? t('route.picking') : this.start ? `${this.start[0].toFixed(5)}, ${this.start[1].toFixed(5)}` : t('route.no_start');
  }

  private drawStart(): void {
    if (!this.start) return;
    const mv = this.app.mapView;
    const marker = L.marker(mv.toLatLng(this.start[0], this.start[1]), {
      icon: L.divIcon({ className: 'start-marker', iconSize: undefined }),
      keyboard: false,
      interactive: false,
    });
    const group = L.featureGroup([marker]);
    mv.set('route', group);
    this.answer = null;
    (this.panel.querySelector('#route-result') as HTMLElement).replaceChildren();
    this.renderStart();
  }

  private async plan(): Promise<void> {
    const q = <T extends HTMLElement>(s: string) => this.panel.querySelector(s) as T;
    const gridId = q<HTMLSelectElement>('#route-grid').value;
    const result = q('#route-result');
    if (!gridId || !this.start) {
      result.replaceChildren(h('p', { class: 'error', text: t('route.need_grid_start') }));
      return;
    }
    const mode = q('#route-mode').querySelector('button.active')?.getAttribute('data-mode') ?? 'walk';
    const kind = q('#route-kind').querySelector('button.active')?.getAttribute('data-kind') ?? 'patrol';
    const body = {
      ...(kind === 'sweep' ? { mode_kind: 'sweep' } : {}),
      grid_id: Number(gridId),
      start: this.start,
      shift_minutes: Number(q<HTMLInputElement>('#route-shift').value),
      mode,
      service_minutes: Number(q<HTMLInputElement>('#route-service').value || 0),
      date: q<HTMLInputElement>('#route-date').value || isoDate(addDays(new Date(), 1)),
    };
    const button = q<HTMLButtonElement>('#route-plan');
    button.disabled = true;
    result.replaceChildren(h('p', { class: 'muted', text: t('route.planning') }));
    try {
      const answer = await api<RouteAnswer>('/api/v1/routes', { method: 'POST', body });
      this.answer = answer;
      this.drawRoute(answer);
      this.renderResult(answer);
      this.panel.dataset.routeId = String(answer.id);
    } catch (e) {
      result.replaceChildren(h('p', { class: 'error', text: this.app.errorText(e) }));
    } finally {
      button.disabled = false;
    }
  }

  private drawRoute(a: RouteAnswer): void {
    const mv = this.app.mapView;
    const group = L.featureGroup();
    // The casing first: a group draws its layers in the order they were made.
    const casing = mv.geo(a.geometry, { interactive: false, style: () => ({ color: '#fff', weight: 9, opacity: 0.9, renderer: mv.renderer }) });
    const line = mv.geo(a.geometry, { interactive: false, style: () => ({ color: ROUTE_COLOR, weight: 5, opacity: 0.95, renderer: mv.renderer }) });
    group.addLayer(casing);
    group.addLayer(line);
    for (const s of a.stops) {
      group.addLayer(
        L.marker(mv.toLatLng(s.lon, s.lat), {
          icon: L.divIcon({ className: 'stop-marker', html: String(s.order), iconSize: undefined }),
          keyboard: false,
          title: `${s.order}`,
        }),
      );
    }
    if (this.start) {
      group.addLayer(L.marker(mv.toLatLng(this.start[0], this.start[1]), { icon: L.divIcon({ className: 'start-marker', iconSize: undefined }), interactive: false }));
    }
    mv.set('route', group);
    const b = group.getBounds();
    if (b.isValid()) mv.map.fitBounds(b, { padding: [40, 40], maxZoom: 17 });
    this.mapEl.dataset.routeStops = String(a.stops.length);
  }

  /** The object URL of the GPX of the route shown. */
  private gpxUrl: string | null = null;

  private renderResult(a: RouteAnswer): void {
    const result = this.panel.querySelector('#route-result') as HTMLElement;
    const cells = a.new_cell_count ?? (Array.isArray(a.new_cells) ? a.new_cells.length : a.new_cells);
    const leftOut = a.left_out ?? [];
    const summary = h('div', {
      class: 'summary',
      id: 'route-summary',
      text: t('route.summary', {
        stops: a.stops.length,
        km: (a.distance_m / 1000).toFixed(1),
        min: Math.round(a.duration_s / 60),
        cells: cells ?? 0,
      }),
    });
    const gpx = this.gpxLink(a.id);
    const stops = h('ol', { class: 'stops', id: 'route-stops' });
    for (const s of a.stops) {
      const kind = tv('stop', s.kind);
      const why = (s.reasons ?? []).map((r) => reasonText(r, lang())).join(lang() === 'zh' ? '；' : '; ');
      const place = stopPlace(s);
      stops.append(
        h(
          'li',
          {},
          h('span', { class: 'n', text: String(s.order) }),
          h(
            'div',
            {},
            h('span', { class: 'stop-place', title: String(s.target_id), text: `${kind} · ${place}` }),
            s.eta ? h('span', { class: 'small muted', text: ` · ${t('route.eta')} ${formatTime(s.eta)}` }) : null,
            why ? h('div', { class: 'small muted', text: why }) : null,
          ),
        ),
      );
    }
    const left = h(
      'ul',
      { class: 'reasons', id: 'route-left-out' },
      ...leftOut.slice(0, 200).map((l) => {
        const o = l as unknown as Record<string, unknown>;
        const why = lang() === 'zh' && typeof o.reason_zh === 'string' ? o.reason_zh : reasonText(l.reason, lang());
        const place = typeof o.place === 'string' && o.place ? o.place : String(l.target_id);
        return h('li', { title: String(l.target_id), text: `${l.kind ? `${tv('stop', l.kind)} · ` : ''}${place}${lang() === 'zh' ? '：' : ': '}${why}` });
      }),
    );
    result.replaceChildren(
      summary,
      a.road_network === false ? h('p', { class: 'notice small', text: t('route.no_roads') }) : '',
      gpx,
      h('h3', { text: t('route.stops') }),
      stops,
      h('h3', { text: `${t('route.left_out')} (${leftOut.length})` }),
      leftOut.length ? left : h('p', { class: 'muted small', text: t('common.none') }),
    );
  }

  /**
   * The GPX button: a link to the route's file, fetched (with the token) as
   * soon as the route is shown, so that a click saves it at once as the
   * browser's own download — nothing to wait for between the click and the
   * file, which a busy page could otherwise lose. Until the file is there,
   * a click fetches it.
   */
  private gpxLink(id: number | string): HTMLAnchorElement {
    const name = `${t('route.file')}-${id}.gpx`;
    const link = h('a', { class: 'button primary', id: 'route-gpx', href: '#', download: name, role: 'button', text: t('route.gpx') });
    link.addEventListener('click', (ev) => {
      if (link.dataset.ready === 'true') return;
      ev.preventDefault();
      void this.downloadGpx(id);
    });
    apiBlob(`/api/v1/routes/${id}.gpx`)
      .then((blob) => {
        if (this.gpxUrl) URL.revokeObjectURL(this.gpxUrl);
        this.gpxUrl = URL.createObjectURL(blob);
        link.href = this.gpxUrl;
        link.dataset.ready = 'true';
      })
      .catch(() => {
        // the click fetches it (and says why when it cannot)
      });
    return link;
  }

  private async downloadGpx(id: number | string): Promise<void> {
    try {
      const blob = await apiBlob(`/api/v1/routes/${id}.gpx`);
      const url = URL.createObjectURL(blob);
      const a = h('a', { href: url, download: `${t('route.file')}-${id}.gpx` });
      document.body.append(a);
      a.click();
      a.remove();
      window.setTimeout(() => URL.revokeObjectURL(url), 10_000);
    } catch (e) {
      this.app.toast(this.app.errorText(e));
    }
  }
}

export type { Props };

/** What people call a stop: its place in the current language, the id for routes planned before places. */
function stopPlace(s: { place?: string; place_en?: string; target_id: unknown }): string {
  const name = lang() === 'zh' ? s.place : (s.place_en ?? s.place);
  return name ? String(name) : String(s.target_id);
}
