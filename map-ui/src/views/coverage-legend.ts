// The map's legend (lower left): what the coverage colours, the works'
// dots and rings and the lines mean, in the current language. A click on a
// heading folds it away and back.

import L from 'leaflet';
import { t, type MessageKey } from '../i18n';
import { COVERAGE_COLORS, COVERAGE_ORDER, DISTRICT_COLOR, FUNDING_COLORS, ROUTE_COLOR, STATUS_COLORS, TRACK_COLORS, VENUE_COLOR } from '../colors';
import { esc } from '../util';

/** Adds the legend to a map. */
export function addLegend(map: L.Map): void {
  const Legend = L.Control.extend({
    options: { position: 'bottomleft' },
    onAdd: () => {
      const div = L.DomUtil.create('div', 'legend');
      div.id = 'legend';
      L.DomEvent.disableClickPropagation(div);
      L.DomEvent.disableScrollPropagation(div);
      div.addEventListener('click', (ev) => {
        if ((ev.target as HTMLElement).closest('h4')) div.classList.toggle('folded');
      });
      return div;
    },
  });
  new Legend().addTo(map);
  renderLegend();
}

/** Writes the legend in the current language. */
export function renderLegend(): void {
  const div = document.getElementById('legend');
  if (!div) return;
  const item = (swatch: string, label: string) => `<div class="item">${swatch}<span>${esc(label)}</span></div>`;
  const box = (c: string) => `<span class="swatch" style="background:${c};opacity:.8"></span>`;
  const dot = (c: string) => `<span class="swatch dot" style="background:${c}"></span>`;
  const ring = (c: string) => `<span class="ring" style="border-color:${c}"></span>`;
  const line = (c: string, dash = false) =>
    `<svg width="16" height="8"><line x1="0" y1="4" x2="16" y2="4" stroke="${c}" stroke-width="3" ${dash ? 'stroke-dasharray="5 3"' : ''}/></svg>`;
  const classLabel: Record<string, MessageKey> = {
    never: 'legend.never',
    overdue: 'legend.overdue',
    recent2: 'legend.recent2',
    recent1: 'legend.recent1',
    recent0: 'legend.recent0',
  };
  div.innerHTML =
    `<h4>${esc(t('legend.coverage'))}</h4>` +
    COVERAGE_ORDER.map((c) => item(box(COVERAGE_COLORS[c]), t(classLabel[c]))).join('') +
    `<div class="sep"></div><h4>${esc(t('legend.projects'))}</h4>` +
    Object.keys(STATUS_COLORS).map((s) => item(dot(STATUS_COLORS[s]), t(`status.${s}` as MessageKey))).join('') +
    Object.keys(FUNDING_COLORS).map((s) => item(ring(FUNDING_COLORS[s]), t(`funding.${s}` as MessageKey))).join('') +
    '<div class="sep"></div>' +
    item(dot(VENUE_COLOR), t('legend.venue')) +
    item(line(DISTRICT_COLOR, true), t('legend.district')) +
    item(line(TRACK_COLORS[1]), t('legend.track')) +
    item(line(ROUTE_COLOR), t('legend.route'));
}
