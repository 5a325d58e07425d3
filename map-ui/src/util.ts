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

// Time as people read it here is Beijing time (UTC+8, no daylight saving),
// whatever zone the browser is set to: a date is a Beijing calendar day and
// a time of day is Beijing's. The arithmetic below shifts instants by eight
// hours and reads them with the UTC getters, which never see the browser's zone.

const BEIJING_MS = 8 * 3_600_000;
const pad = (n: number) => String(n).padStart(2, '0');

/** `YYYY-MM-DD`: the Beijing calendar day of an instant. */
export function isoDate(d: Date): string {
  const b = new Date(d.getTime() + BEIJING_MS);
  return `${b.getUTCFullYear()}-${pad(b.getUTCMonth() + 1)}-${pad(b.getUTCDate())}`;
}

/** The instant `n` days (of 24 hours: Beijing has no daylight saving) later. */
export function addDays(d: Date, n: number): Date {
  return new Date(d.getTime() + n * 86_400_000);
}

/** Midnight (Beijing time) starting a `YYYY-MM-DD` day. */
export function beijingMidnight(day: string): Date {
  return new Date(`${day}T00:00:00+08:00`);
}

/** The Beijing day `n` days after the day `YYYY-MM-DD`. */
export function addDaysIso(day: string, n: number): string {
  return isoDate(addDays(beijingMidnight(day), n));
}

/** An instant (RFC 3339) as `YYYY-MM-DD HH:MM` in Beijing time; a bare date stays a date. */
export function formatDateTime(iso: string): string {
  if (/^\d{4}-\d{2}-\d{2}$/.test(iso)) return iso;
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const b = new Date(d.getTime() + BEIJING_MS);
  return `${isoDate(d)} ${pad(b.getUTCHours())}:${pad(b.getUTCMinutes())}`;
}

/** An instant's Beijing time of day, `HH:MM`. */
export function formatTime(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const b = new Date(d.getTime() + BEIJING_MS);
  return `${pad(b.getUTCHours())}:${pad(b.getUTCMinutes())}`;
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
  if (key === 'source' && typeof value === 'string') return sourceText(value);
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

/** A venue's provenance ("proxy from bus stop SJ0012 (keyword '广场')") in the current language. */
export function sourceText(s: string): string {
  const m = /^proxy from bus stop (.+?) \(keyword '(.+)'\)$/.exec(s);
  if (!m) return s;
  return lang() === 'zh' ? `由公交站 ${m[1]} 推定（关键词“${m[2]}”）` : s;
}

export function propLabel(key: string): string {
  const k = `prop.${key}`;
  return hasKey(k) ? t(k) : key.replace(/_/g, ' ');
}
