// Following up a hazard (整改跟踪): rectification photos of the work and a
// note; a role that may move hazards (grid managers, town staff) also moves
// it to 整改中 or 已复查. An officer's follow-up is a re-inspection of the
// work that names the hazard. Everything goes through the outbox.

import { h } from '../util';
import type { Schemas } from '../api';
import { enqueue, newId } from './queue';
import { patrolState } from './patrol';
import { beijingDate, beijingIso, cachedGet, resizePhoto, toast, type Me } from './net';

type Hazard = Schemas['HazardOut'];

/** Roles that may move a hazard (the server checks it too). */
const MOVERS = new Set(['admin', 'town', 'grid_manager']);
const MOVES: Record<string, string> = { rectifying: '转为整改中', verified: '复查合格' };

export async function renderFollowUp(root: HTMLElement, me: Me, id: string): Promise<void> {
  const hazard = await cachedGet<Hazard>(`/api/v1/hazards/${encodeURIComponent(id)}`);
  if (!hazard) {
    root.replaceChildren(h('p', { class: 'f-muted', text: '无法载入该隐患（离线且未缓存）' }));
    return;
  }
  const photos: Blob[] = [];
  const strip = h('div', { class: 'f-photos' });
  const input = h('input', { type: 'file', accept: 'image/*', capture: 'environment', multiple: true, name: 'photos' });
  input.addEventListener('change', async () => {
    for (const file of Array.from(input.files ?? [])) {
      const small = await resizePhoto(file);
      photos.push(small);
      strip.append(h('img', { src: URL.createObjectURL(small), alt: '整改照片' }));
    }
    input.value = '';
  });
  const note = h('textarea', { name: 'note', rows: '2', placeholder: '整改情况' });
  const form = h(
    'form',
    { class: 'f-card', id: 'f-followup-form' },
    h('h2', { text: `隐患跟踪：${hazard.kind_zh}` }),
    h('p', { class: 'f-muted', text: `${hazard.severity_zh} · 整改期限 ${hazard.deadline}${hazard.overdue ? ` · 已逾期 ${hazard.days_overdue} 天` : ''} · ${hazard.status_zh}` }),
    h('label', {}, '整改照片', input),
    strip,
    h('label', {}, '说明', note),
  );
  const may = MOVERS.has(me.role);
  const moves = may ? hazard.next.filter((s) => s in MOVES) : [];
  const submit = async (to: string | null) => {
    const text = String(note.value).trim();
    const refs: string[] = [];
    for (const [i, photo] of photos.entries()) {
      const ref = newId();
      refs.push(ref);
      const name = encodeURIComponent(`整改照片-隐患${hazard.id}-${beijingDate()}-${i + 1}.jpg`);
      await enqueue({ id: ref, label: `隐患 ${hazard.id} 整改照片 ${i + 1}`, method: 'POST', path: `/api/v1/attachments?project=${hazard.project_id}&name=${name}`, contentType: 'image/jpeg', body: photo });
    }
    if (to) {
      const body = JSON.stringify({ status: to, note: text || MOVES[to] });
      await enqueue({ label: `隐患 ${hazard.id} ${MOVES[to]}`, method: 'PATCH', path: `/api/v1/hazards/${hazard.id}`, contentType: 'application/json', body });
    } else {
      // an officer records the follow-up as a re-inspection of the work
      const last = patrolState().last;
      const inspection: Record<string, unknown> = { inspected_at: beijingIso(), inspector: me.user, note: `复查隐患 #${hazard.id}（${hazard.kind_zh}）：${text || '已到现场复查'}` };
      if (last) inspection.position = { lon: Number(last.lon.toFixed(7)), lat: Number(last.lat.toFixed(7)) };
      if (refs.length) inspection.photos = refs.map((r) => `{ref:${r}}`);
      const json = JSON.stringify(inspection).replace(/"\{ref:([0-9a-f-]{36})\}"/g, '{ref:$1}');
      await enqueue({ label: `复查隐患 ${hazard.id}（${hazard.kind_zh}）`, method: 'POST', path: `/api/v1/projects/${hazard.project_id}/inspections`, contentType: 'application/json', body: json });
    }
    toast(navigator.onLine ? '跟踪记录已保存，正在发送' : '跟踪记录已保存在手机上，联网后发送');
    location.hash = '#queue';
  };
  for (const to of moves) {
    const b = h('button', { type: 'button', class: 'f-primary', 'data-move': to, text: MOVES[to] });
    b.addEventListener('click', () => void submit(to));
    form.append(b);
  }
  if (!may) {
    const b = h('button', { type: 'button', class: 'f-primary', id: 'f-followup-submit', text: '提交复查记录' });
    b.addEventListener('click', () => void submit(null));
    form.append(b, h('p', { class: 'f-muted', text: '隐患状态由网格长或街镇人员确认，复查记录和照片会一并送达。' }));
  }
  root.replaceChildren(form);
}
