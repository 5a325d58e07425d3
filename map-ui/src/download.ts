// Downloads beside every list and table, made by the server's exports
// (`?f=csv|xlsx|geojson|gpkg|fgb` on the list's own endpoint, so a file
// holds what the caller may read): CSV (UTF-8 with a BOM, so Excel opens
// the Chinese right; Chinese headers; Beijing time), Excel, GeoJSON and
// the GIS layers (GeoPackage for every list, FlatGeobuf where the list has
// a geometry). A list without a server endpoint still gets CSV and GeoJSON
// made here from the data the page has loaded.

import type { Feature, FeatureCollection, Geometry } from 'geojson';
import { apiBlob, withQuery } from './api';
import { t } from './i18n';
import { h } from './util';

/** Whether the server's export endpoints (`?f=`) are there to use. */
export const SERVER_EXPORTS = true;

export interface Column<R> {
  /** The header, in the current language. */
  label: string;
  value: (row: R) => unknown;
}

/** A CSV field, quoted when it holds a comma, a quote or a line break. */
function field(v: unknown): string {
  if (v === null || v === undefined) return '';
  const s = typeof v === 'number' ? (Number.isFinite(v) ? String(v) : '') : String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** The rows as CSV text: a BOM, a header line, CRLF line ends (RFC 4180). */
export function csvText<R>(columns: Column<R>[], rows: R[]): string {
  const lines = [columns.map((c) => field(c.label)).join(',')];
  for (const r of rows) lines.push(columns.map((c) => field(c.value(r))).join(','));
  return `\uFEFF${lines.join('\r\n')}\r\n`;
}

/** A GeoJSON FeatureCollection of the rows that have a geometry. */
export function geojsonText<R>(rows: R[], geometry: (r: R) => Geometry | null | undefined, properties: (r: R) => Record<string, unknown>): string {
  const features: Feature[] = [];
  for (const r of rows) {
    const g = geometry(r);
    if (g) features.push({ type: 'Feature', geometry: g, properties: properties(r) });
  }
  const fc: FeatureCollection = { type: 'FeatureCollection', features };
  return JSON.stringify(fc);
}

/** Hands a blob to the browser as a file. */
export function saveBlob(blob: Blob, filename: string): void {
  const url = URL.createObjectURL(blob);
  const a = h('a', { href: url, download: filename });
  document.body.append(a);
  a.click();
  a.remove();
  window.setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export interface DownloadSpec<R> {
  /** The file's name without extension, e.g. 盲区单元格-2026-12-07. */
  name: string;
  rows: () => R[];
  columns: () => Column<R>[];
  /** For a GeoJSON download. */
  geometry?: (r: R) => Geometry | null | undefined;
  /** The list's endpoint and query, for the server's exports once they are merged. */
  server?: { path: string; params?: Record<string, string | number | undefined> };
  /** A CSV the server already makes (e.g. the ledger's `format=csv`). */
  serverCsv?: string;
  onError?: (e: unknown) => void;
}

type Format = 'csv' | 'xlsx' | 'geojson' | 'gpkg' | 'fgb';

/** Downloads one format of a list. */
export async function download<R>(spec: DownloadSpec<R>, format: Format): Promise<void> {
  const file = `${spec.name}.${format}`;
  if (SERVER_EXPORTS && spec.server) {
    saveBlob(await apiBlob(withQuery(spec.server.path, { ...spec.server.params, f: format })), file);
    return;
  }
  if (format === 'csv' && spec.serverCsv) {
    saveBlob(await apiBlob(spec.serverCsv), file);
    return;
  }
  const rows = spec.rows();
  const columns = spec.columns();
  if (format === 'geojson' && spec.geometry) {
    const props = (r: R) => Object.fromEntries(columns.map((c) => [c.label, c.value(r) ?? null]));
    saveBlob(new Blob([geojsonText(rows, spec.geometry, props)], { type: 'application/geo+json' }), file);
    return;
  }
  saveBlob(new Blob([csvText(columns, rows)], { type: 'text/csv;charset=utf-8' }), file);
}

/** The download buttons of a list: CSV, and from the server Excel, GeoJSON, GeoPackage and (with geometry) FlatGeobuf. */
export function downloadButtons<R>(spec: DownloadSpec<R>): HTMLElement {
  const formats: Format[] = ['csv'];
  const server = SERVER_EXPORTS && spec.server;
  if (server) formats.push('xlsx');
  if (spec.geometry || server) formats.push('geojson');
  if (server) formats.push('gpkg');
  if (server && spec.geometry) formats.push('fgb');
  const box = h('div', { class: 'downloads', 'data-download': spec.name });
  box.append(h('span', { class: 'small muted', text: t('download.label') }));
  for (const f of formats) {
    const b = h('button', { type: 'button', class: 'chip', 'data-format': f, text: t(`download.${f}`) });
    b.addEventListener('click', () => {
      download(spec, f).catch((e) => spec.onError?.(e));
    });
    box.append(b);
  }
  return box;
}
