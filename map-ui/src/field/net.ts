// Reads that survive a lost network (the last answer of each is kept), the
// distance between two positions, Beijing time, and the photo resizer.

import { getToken } from '../api';

export interface Me {
  user: string;
  role: string;
  scope: unknown;
}

const CACHE = 'gridpatrol.field.get:';

/** GET with the token; the last good answer when offline; null when neither. */
export async function cachedGet<T>(path: string): Promise<T | null> {
  const token = getToken();
  try {
    const res = await fetch(path, { headers: { Accept: 'application/json', ...(token ? { Authorization: `Bearer ${token}` } : {}) } });
    if (res.status === 401) return null;
    if (res.ok) {
      const text = await res.text();
      try {
        localStorage.setItem(CACHE + path, text);
      } catch {
        // storage full: the answer is still used now
      }
      return JSON.parse(text) as T;
    }
  } catch {
    // offline: the kept answer below
  }
  const kept = localStorage.getItem(CACHE + path);
  return kept ? (JSON.parse(kept) as T) : null;
}

/** Metres between two WGS-84 positions (haversine). */
export function distanceM(a: [number, number], b: [number, number]): number {
  const R = 6_371_008.8;
  const rad = Math.PI / 180;
  const dLat = (b[1] - a[1]) * rad;
  const dLon = (b[0] - a[0]) * rad;
  const s = Math.sin(dLat / 2) ** 2 + Math.cos(a[1] * rad) * Math.cos(b[1] * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * R * Math.asin(Math.min(1, Math.sqrt(s)));
}

export function formatDistance(m: number): string {
  return m < 1000 ? `${Math.round(m)} 米` : `${(m / 1000).toFixed(1)} 公里`;
}

const BEIJING = 'Asia/Shanghai';

/** `YYYY-MM-DD` in Beijing time. */
export function beijingDate(t: number = Date.now()): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone: BEIJING, year: 'numeric', month: '2-digit', day: '2-digit' }).format(t);
}

/** `MM-DD HH:mm` in Beijing time, for lists. */
export function beijingTime(t: number | string): string {
  const d = typeof t === 'string' ? new Date(t) : new Date(t);
  const parts = new Intl.DateTimeFormat('zh-CN', { timeZone: BEIJING, month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hour12: false }).formatToParts(d);
  const get = (k: string) => parts.find((p) => p.type === k)?.value ?? '';
  return `${get('month')}-${get('day')} ${get('hour')}:${get('minute')}`;
}

/** RFC 3339 with the +08:00 offset, as the officer's own clock reads. */
export function beijingIso(t: number = Date.now()): string {
  const d = new Date(t + 8 * 3_600_000);
  return d.toISOString().replace(/\.\d{3}Z$/, '+08:00');
}

let toastTimer: ReturnType<typeof setTimeout> | null = null;

export function toast(text: string): void {
  let el = document.querySelector<HTMLElement>('.f-toast');
  if (!el) {
    el = document.createElement('div');
    el.className = 'f-toast';
    el.setAttribute('role', 'status');
    document.body.append(el);
  }
  el.textContent = text;
  el.hidden = false;
  if (toastTimer) clearTimeout(toastTimer);
  toastTimer = setTimeout(() => {
    if (el) el.hidden = true;
  }, 4000);
}

/** A photo made smaller on the phone before it is queued: JPEG, longest side 1600 px. */
export async function resizePhoto(file: File, maxSide = 1600): Promise<Blob> {
  const bitmap = await createImageBitmap(file);
  const scale = Math.min(1, maxSide / Math.max(bitmap.width, bitmap.height));
  const canvas = document.createElement('canvas');
  canvas.width = Math.round(bitmap.width * scale);
  canvas.height = Math.round(bitmap.height * scale);
  canvas.getContext('2d')?.drawImage(bitmap, 0, 0, canvas.width, canvas.height);
  bitmap.close();
  return new Promise((resolve, reject) => canvas.toBlob((b) => (b ? resolve(b) : reject(new Error('photo'))), 'image/jpeg', 0.85));
}
