// Small helpers shared by the views: DOM building, dates, value formatting.

import { lang, t, tv, hasKey } from './i18n';

export function esc(s: unknown): string {
  return String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);
}

export function $(sel: string, root: ParentNode = document): HTMLElement {
  const el = root.querySelector<HTMLElement>(sel);
  if (!el) throw new Error(`missing element ${sel}`);
  return el;
}

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | boolean | undefined> = {},
  ...children: Array<Node | string | null | undefined>
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false) continue;
    if (k === 'class') el.className = String(v);
    else if (k === 'text') el.textContent = String(v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children) {
    if (c === null || c === undefined) continue;
    el.append(typeof c === 'string' ? document.createTextNode(c) : c);
  }
  return el;
}

/** `YYYY-MM-DD` of a local date. */
export function isoDate(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`;
}

export function addDays(d: Date, n: number): Date {
  const r = new Date(d);
  r.setDate(r.getDate() + n);
  return r;
}

export function formatDateTime(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const p = (n: number) => String(n).padStart(2, '0');
  const date = `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`;
  if (/^\d{4}-\d{2}-\d{2}$/.test(iso)) return date;
  return `${date} ${p(d.getHours())}:${p(d.getMinutes())}`;
}

export function formatNumber(n: number, digits = 2): string {
  const locale = lang() === 'zh' ? 'zh-CN' : 'en-GB';
  return n.toLocaleString(locale, { maximumFractionDigits: Number.isInteger(n) ? 0 : digits });
}

let townNames = new Map<string, string>();
export function setTownNames(m: Map<string, string>): void {
  townNames = m;
}
export function townName(code: unknown): string {
  return townNames.get(String(code)) ?? String(code ?? '');
}

/** Enum-valued properties and the prefix of their translations. */
const ENUMS: Record<string, string> = {
  category: 'category',
  funding: 'funding',
  status: 'status',
  severity: 'severity',
};

/** A property value as a person reads it, in the current language. */
export function formatValue(key: string, value: unknown, layer = ''): string {
  if (value === null || value === undefined || value === '') return '—';
  if (typeof value === 'boolean') return value ? t('common.yes') : t('common.no');
  if (key === 'town') return townName(value);
  if (key === 'kind') {
    if (layer === 'venues') return tv('venue', value);
    if (layer === 'towns') return tv('townkind', value);
    if (layer === 'hazards') return tv('hazard', value);
  }
  if (key === 'status' && layer === 'hazards') return tv('hstatus', value);
  if (ENUMS[key]) return tv(ENUMS[key], value);
  if (typeof value === 'number' && /(_share|ratio)$/.test(key) && value >= 0 && value <= 1) return `${(value * 100).toFixed(1)}%`;
  if (typeof value === 'number') return formatNumber(value);
  if (typeof value === 'string' && /^\d{4}-\d{2}-\d{2}(T|$)/.test(value)) return formatDateTime(value);
  if (Array.isArray(value)) return value.map((v) => (typeof v === 'object' ? JSON.stringify(v) : String(v))).join(', ');
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

export function propLabel(key: string): string {
  const k = `prop.${key}`;
  return hasKey(k) ? t(k) : key.replace(/_/g, ' ');
}
