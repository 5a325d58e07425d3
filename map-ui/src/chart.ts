// A small horizontal bar chart as SVG text: no chart library, nothing loaded.

export interface Bar {
  label: string;
  value: number;
}

export interface ChartOptions {
  width?: number;
  barHeight?: number;
  labelWidth?: number;
  format?: (v: number) => string;
  color?: string;
  title?: string;
}

export function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);
}

/** Bars sorted by value, largest first; non-finite values are left out. */
export function barChartSvg(bars: Bar[], opts: ChartOptions = {}): string {
  const width = opts.width ?? 640;
  const bh = opts.barHeight ?? 22;
  const lw = opts.labelWidth ?? 120;
  const fmt = opts.format ?? ((v: number) => (Number.isInteger(v) ? String(v) : v.toFixed(2)));
  const color = opts.color ?? '#2b6cb0';
  const data = bars.filter((b) => Number.isFinite(b.value)).sort((a, b) => b.value - a.value);
  const max = Math.max(0, ...data.map((b) => b.value));
  const top = opts.title ? 28 : 6;
  const height = top + data.length * (bh + 6) + 6;
  const plot = width - lw - 70;
  const rows = data
    .map((b, i) => {
      const y = top + i * (bh + 6);
      const w = max > 0 ? Math.max(0, (b.value / max) * plot) : 0;
      return (
        `<g class="bar"><text x="${lw - 8}" y="${y + bh / 2}" text-anchor="end" dominant-baseline="central">${escapeXml(b.label)}</text>` +
        `<rect x="${lw}" y="${y}" width="${w.toFixed(1)}" height="${bh}" rx="3" fill="${color}"/>` +
        `<text x="${(lw + w + 6).toFixed(1)}" y="${y + bh / 2}" dominant-baseline="central" class="value">${escapeXml(fmt(b.value))}</text></g>`
      );
    })
    .join('');
  const title = opts.title
    ? `<text x="0" y="16" class="chart-title">${escapeXml(opts.title)}</text>`
    : '';
  return `<svg xmlns="http://www.w3.org/2000/svg" class="bar-chart" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img">${title}${rows}</svg>`;
}

export interface Series {
  label: string;
  /** One value per x label (NaN for none); same length as the chart's labels. */
  values: number[];
  color?: string;
}

export interface LineChartOptions {
  width?: number;
  height?: number;
  title?: string;
  /** The y axis's top; the largest value when not given. */
  max?: number;
  format?: (v: number) => string;
  /** A series drawn thicker (the one a person picked). */
  emphasis?: string;
}

/** A categorical palette that stays apart on white (ColorBrewer Dark2 + Set1). */
export const SERIES_COLORS = ['#1b9e77', '#d95f02', '#7570b3', '#e7298a', '#66a61e', '#e6ab02', '#a6761d', '#666666', '#e41a1c', '#377eb8', '#4daf4a', '#984ea3', '#ff7f00', '#a65628', '#f781bf', '#999999', '#0b6e4f', '#6b3fa0'];

/**
 * Lines over shared x labels (weeks), as SVG text with a legend: no chart
 * library. Gaps (NaN) break a line.
 */
export function lineChartSvg(labels: string[], series: Series[], opts: LineChartOptions = {}): string {
  const width = opts.width ?? 760;
  const legendCols = Math.max(1, Math.floor((width - 40) / 150));
  const legendRows = Math.ceil(series.length / legendCols);
  const plotH = opts.height ?? 240;
  const top = opts.title ? 30 : 10;
  const left = 52;
  const right = 16;
  const bottom = 40;
  const height = top + plotH + bottom + legendRows * 18 + 6;
  const fmt = opts.format ?? ((v: number) => (Number.isInteger(v) ? String(v) : v.toFixed(2)));
  const all = series.flatMap((s) => s.values.filter((v) => Number.isFinite(v)));
  const max = opts.max ?? Math.max(1e-9, ...all);
  const plotW = width - left - right;
  const x = (i: number) => left + (labels.length <= 1 ? plotW / 2 : (i * plotW) / (labels.length - 1));
  const y = (v: number) => top + plotH - (Math.max(0, Math.min(v, max)) / max) * plotH;
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => {
    const v = max * f;
    return `<line x1="${left}" x2="${width - right}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" class="gridline" stroke="#e3e7ec"/><text x="${left - 6}" y="${y(v).toFixed(1)}" text-anchor="end" dominant-baseline="central" class="tick">${escapeXml(fmt(v))}</text>`;
  });
  const step = Math.max(1, Math.ceil(labels.length / 10));
  const xTicks = labels
    // the last label too, unless it would sit on the one before
    .map((l, i) => (i % step === 0 || (i === labels.length - 1 && i % step >= step / 2) ? `<text x="${x(i).toFixed(1)}" y="${top + plotH + 16}" text-anchor="middle" class="tick">${escapeXml(l)}</text>` : ''))
    .join('');
  const lines = series
    .map((s, si) => {
      const color = s.color ?? SERIES_COLORS[si % SERIES_COLORS.length];
      const strong = opts.emphasis === s.label;
      let d = '';
      let pen = false;
      s.values.forEach((v, i) => {
        if (!Number.isFinite(v)) {
          pen = false;
          return;
        }
        d += `${pen ? 'L' : 'M'}${x(i).toFixed(1)},${y(v).toFixed(1)}`;
        pen = true;
      });
      const dots = s.values
        .map((v, i) => (Number.isFinite(v) ? `<circle cx="${x(i).toFixed(1)}" cy="${y(v).toFixed(1)}" r="${strong ? 3.5 : 2.5}" fill="${color}"><title>${escapeXml(`${s.label} ${labels[i]}: ${fmt(v)}`)}</title></circle>` : ''))
        .join('');
      return `<g class="series" data-series="${escapeXml(s.label)}"><path d="${d}" fill="none" stroke="${color}" stroke-width="${strong ? 3.5 : 2}" stroke-linejoin="round"/>${dots}</g>`;
    })
    .join('');
  const legend = series
    .map((s, si) => {
      const color = s.color ?? SERIES_COLORS[si % SERIES_COLORS.length];
      const lx = left + (si % legendCols) * 150;
      const ly = top + plotH + bottom + Math.floor(si / legendCols) * 18;
      return `<g class="legend-item"><rect x="${lx}" y="${ly - 5}" width="14" height="4" fill="${color}"/><text x="${lx + 20}" y="${ly}" dominant-baseline="central">${escapeXml(s.label)}</text></g>`;
    })
    .join('');
  const title = opts.title ? `<text x="0" y="16" class="chart-title">${escapeXml(opts.title)}</text>` : '';
  return `<svg xmlns="http://www.w3.org/2000/svg" class="line-chart" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img">${title}${ticks.join('')}${xTicks}${lines}${legend}</svg>`;
}
