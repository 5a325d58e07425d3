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
