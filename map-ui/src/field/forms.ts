// The field app's forms: check in and inspect a work (the distance from me
// to the work, the checklist, findings with deadlines, on-the-spot fixes,
// photos), and report a work found on patrol. Both go to the outbox.

import { h } from '../util';
import { tv } from '../i18n';
import type { Schemas } from '../api';
import { enqueue, newId } from './queue';
import { patrolState } from './patrol';
import { beijingDate, beijingIso, cachedGet, distanceM, formatDistance, resizePhoto, toast, type Me } from './net';

type HazardKind = Schemas['HazardKind'];
type Category = Schemas['Category'];
type Funding = Schemas['Funding'];
interface WorkFeature {
  id?: number | string;
  geometry: { type: string; coordinates: unknown } | null;
  properties: { id?: number; name: string; category: Category; funding: Funding; status: string };
}

/** A checklist item of `GET /api/v1/checklist`. */
interface CheckItemDef {
  area: string;
  area_zh: string;
  item: string;
  label_zh: string;
}

/** Checklist items whose 不符合 is a hazard of the notice's list. */
const ITEM_HAZARD: Record<string, HazardKind> = {
  scaffold_guardrail: 'scaffold_guardrail_missing',
  scaffold_pole_spacing: 'scaffold_pole_spacing',
  no_ladder_at_height: 'ladder_at_height',
  switch_box: 'no_switch_box',
  no_power_from_secondary_box: 'power_from_secondary_box',
  no_extension_board: 'extension_board',
  safety_briefing: 'no_safety_briefing',
  construction_plan: 'missing_plan',
  hot_work_permit: 'hot_work_without_permit',
  insulation_filed: 'insulation_material',
};

/** The findings a checklist can lead to, in the committee's four areas. */
export const CHECKLIST: Array<{ area: string; items: HazardKind[] }> = [
  { area: '安全生产', items: ['scaffold_guardrail_missing', 'scaffold_pole_spacing', 'ladder_at_height', 'no_switch_box', 'power_from_secondary_box', 'extension_board'] },
  { area: '消防安全', items: ['hot_work_without_permit', 'insulation_material'] },
  { area: '文明施工', items: ['no_safety_briefing', 'missing_plan'] },
  { area: '工程质量与违法建设', items: ['steel_mezzanine', 'unpermitted_above_limit'] },
];

function here(): [number, number] | null {
  const last = patrolState().last;
  return last ? [last.lon, last.lat] : null;
}

/** A point to measure from: the work's point, or the first vertex of its outline. */
export function anchor(g: WorkFeature['geometry']): [number, number] | null {
  let c: unknown = g?.coordinates;
  while (Array.isArray(c) && Array.isArray(c[0])) c = c[0];
  return Array.isArray(c) && typeof c[0] === 'number' ? [c[0], c[1] as number] : null;
}

function workId(f: WorkFeature): number {
  return Number(f.properties.id ?? f.id);
}

/** The works of my scope, nearest first: the list is kept whole so that it answers offline wherever I am. */
export async function nearbyWorks(pos: [number, number] | null): Promise<WorkFeature[]> {
  const fc = await cachedGet<{ features: WorkFeature[] }>('/api/v1/projects?limit=5000');
  const works = fc?.features ?? [];
  if (pos) {
    const d = new Map(works.map((w) => [w, distanceM(pos, anchor(w.geometry) ?? pos)]));
    works.sort((a, b) => (d.get(a) ?? 0) - (d.get(b) ?? 0));
  }
  return works;
}

/** Inspect: pick a work near me, then the form. */
export async function renderInspect(root: HTMLElement, me: Me, selected?: string): Promise<void> {
  const pos = here();
  root.replaceChildren(h('p', { class: 'f-muted', text: '正在载入附近工地…' }));
  const works = await nearbyWorks(pos);
  const work = selected ? works.find((w) => String(workId(w)) === selected) ?? (await cachedGet<WorkFeature>(`/api/v1/projects/${selected}`)) : null;
  if (!work) {
    const list = h('ul', { class: 'f-list', id: 'f-nearby' });
    for (const w of works.slice(0, 40)) {
      const a = anchor(w.geometry);
      const d = pos && a ? formatDistance(distanceM(pos, a)) : '';
      list.append(h('li', {}, h('div', {}, h('div', { text: w.properties.name }), h('div', { class: 'f-sub', text: `${tv('status', w.properties.status)} · ${d}` })), h('a', { href: `#inspect/${workId(w)}`, text: '检查' })));
    }
    if (!works.length) list.append(h('li', { class: 'f-muted', text: '附近没有工地' }));
    root.replaceChildren(h('div', { class: 'f-card' }, h('h2', { text: '附近工地' }), list));
    return;
  }
  root.replaceChildren(await inspectionForm(work, me, pos));
}

async function inspectionForm(work: WorkFeature, me: Me, pos: [number, number] | null): Promise<HTMLElement> {
  const a = anchor(work.geometry);
  const distance = pos && a ? distanceM(pos, a) : null;
  const docs = await cachedGet<{ paths?: Record<string, unknown> }>('/api/v1/openapi.json');
  const withPhotos = Boolean(docs?.paths?.['/api/v1/attachments']);
  const form = h('form', { class: 'f-card', id: 'f-inspect-form' });
  form.append(
    h('h2', { text: work.properties.name }),
    h('p', { class: 'f-muted', id: 'f-distance', text: distance === null ? '尚未定位，无法计算与工地的距离' : `我距工地 ${formatDistance(distance)}` }),
    h('label', {}, '检查情况', h('textarea', { name: 'note', rows: '2', placeholder: '现场情况、在场人员' })),
  );
  const deadline = beijingDate(Date.now() + 7 * 86_400_000);
  const findingBoxes = new Map<HazardKind, HTMLInputElement>();
  const checklist = (await cachedGet<CheckItemDef[]>('/api/v1/checklist')) ?? [];
  if (checklist.length) {
    const areas = [...new Set(checklist.map((c) => c.area_zh))];
    form.append(h('h3', { text: '检查表' }));
    for (const area of areas) {
      const box = h('details', { class: 'f-finding', open: area === areas[0] }, h('summary', { text: area }));
      for (const c of checklist.filter((x) => x.area_zh === area)) {
        const select = h(
          'select',
          { name: `check-${c.item}` },
          h('option', { value: '', text: '未检查' }),
          h('option', { value: 'pass', text: '符合' }),
          h('option', { value: 'fail', text: '不符合' }),
          h('option', { value: 'not_applicable', text: '不涉及' }),
        );
        select.addEventListener('change', () => {
          const kind = ITEM_HAZARD[c.item];
          const finding = kind ? findingBoxes.get(kind) : undefined;
          if (finding && select.value === 'fail' && !finding.checked) {
            finding.checked = true;
            finding.dispatchEvent(new Event('change'));
          }
        });
        box.append(h('label', {}, c.label_zh, select));
      }
      form.append(box);
    }
  }
  form.append(h('h3', { text: '发现的问题' }));
  for (const group of CHECKLIST) {
    form.append(h('h3', { class: 'f-muted', text: group.area }));
    for (const kind of group.items) {
      const box = h('input', { type: 'checkbox', name: 'finding', value: kind });
      findingBoxes.set(kind, box);
      const detail = h(
        'div',
        { class: 'f-finding', hidden: true },
        h('label', {}, '严重程度', h('select', { name: `severity-${kind}` }, h('option', { value: 'general', text: '一般' }), h('option', { value: 'serious', text: '较大' }), h('option', { value: 'major', text: '重大' }))),
        h('label', {}, '整改期限', h('input', { type: 'date', name: `deadline-${kind}`, value: deadline, min: beijingDate() })),
        h('label', { class: 'f-check' }, h('input', { type: 'checkbox', name: `fixed-${kind}` }), '当场整改'),
      );
      box.addEventListener('change', () => (detail.hidden = !box.checked));
      form.append(h('label', { class: 'f-check' }, box, tv('hazard', kind)), detail);
    }
  }
  form.append(h('label', {}, '在场人员', h('input', { name: 'parties', placeholder: '如：施工单位 项目负责人 李强；建设单位 王芳（用；分隔）' })));
  const photos: Blob[] = [];
  if (withPhotos) {
    const strip = h('div', { class: 'f-photos' });
    const input = h('input', { type: 'file', accept: 'image/*', capture: 'environment', multiple: true, name: 'photos' });
    input.addEventListener('change', async () => {
      for (const file of Array.from(input.files ?? [])) {
        const small = await resizePhoto(file);
        photos.push(small);
        strip.append(h('img', { src: URL.createObjectURL(small), alt: '现场照片' }));
      }
      input.value = '';
    });
    form.append(h('label', {}, '现场照片', input), strip);
  }
  form.append(h('button', { type: 'submit', class: 'f-primary', text: '保存检查记录' }));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    void submitInspection(form, work, me, photos);
  });
  return form;
}

async function submitInspection(form: HTMLFormElement, work: WorkFeature, me: Me, photos: Blob[]): Promise<void> {
  const data = new FormData(form);
  const findings = data.getAll('finding').map((k) => {
    const kind = String(k) as HazardKind;
    return {
      kind,
      severity: String(data.get(`severity-${kind}`) ?? 'general'),
      deadline: String(data.get(`deadline-${kind}`) ?? beijingDate()),
      fixed_on_spot: data.get(`fixed-${kind}`) === 'on',
    };
  });
  const checklist: Array<{ item: string; result: string }> = [];
  for (const [name, value] of data.entries()) {
    if (name.startsWith('check-') && value) checklist.push({ item: name.slice('check-'.length), result: String(value) });
  }
  const parties = String(data.get('parties') ?? '')
    .split(/[;；]/)
    .map((p) => p.trim())
    .filter(Boolean);
  const pos = here();
  const id = workId(work);
  const photoRefs: string[] = [];
  for (const [i, photo] of photos.entries()) {
    const ref = newId();
    photoRefs.push(ref);
    const name = encodeURIComponent(`现场照片-${beijingDate()}-${i + 1}.jpg`);
    await enqueue({ id: ref, label: `${work.properties.name} 现场照片 ${i + 1}`, method: 'POST', path: `/api/v1/attachments?project=${id}&name=${name}`, contentType: 'image/jpeg', body: photo });
  }
  const body: Record<string, unknown> = { inspected_at: beijingIso(), inspector: me.user, note: String(data.get('note') ?? '').trim(), findings, checklist, parties_present: parties };
  if (pos) body.position = { lon: Number(pos[0].toFixed(7)), lat: Number(pos[1].toFixed(7)) };
  if (photoRefs.length) body.photos = photoRefs.map((r) => `{ref:${r}}`);
  // a photo's id is known once it is stored: `{ref:ID}` is replaced when sent
  const text = JSON.stringify(body).replace(/"\{ref:([0-9a-f-]{36})\}"/g, '{ref:$1}');
  await enqueue({ label: `检查 ${work.properties.name}（${findings.length} 个问题）`, method: 'POST', path: `/api/v1/projects/${id}/inspections`, contentType: 'application/json', body: text });
  toast(navigator.onLine ? '检查记录已保存，正在发送' : '检查记录已保存在手机上，联网后发送');
  location.hash = '#queue';
}

const CATEGORIES: Category[] = ['fit_out', 'repair', 'alteration', 'extension', 'new_build', 'municipal', 'pipeline', 'water', 'greening'];

/** Report a work found on patrol, at my position. */
export function renderReport(root: HTMLElement, me: Me): void {
  const pos = here();
  const form = h('form', { class: 'f-card', id: 'f-report-form' });
  const category = h('select', { name: 'category' }, ...CATEGORIES.map((c) => h('option', { value: c, text: tv('category', c) })));
  const funding = h('select', { name: 'funding' }, h('option', { value: '', text: '不清楚' }), ...(['social', 'government', 'collective'] as Funding[]).map((f) => h('option', { value: f, text: tv('funding', f) })));
  form.append(
    h('h2', { text: '上报巡查发现的工地' }),
    h('p', { class: 'f-muted', id: 'f-report-pos', text: pos ? `位置：${pos[0].toFixed(5)}, ${pos[1].toFixed(5)}（精度 ${Math.round(patrolState().last?.accuracy ?? 0)} 米）` : '尚未定位：请稍候再上报' }),
    h('label', {}, '工程名称', h('input', { name: 'name', required: true, placeholder: '如：荣乐路 88 号店铺装修' })),
    h('label', {}, '类别', category),
    h('label', {}, '投资性质', funding),
    h('label', {}, '地址或位置说明', h('textarea', { name: 'note', rows: '2', placeholder: '如：荣乐路与人民北路路口东北角' })),
    h('button', { type: 'submit', class: 'f-primary', text: '上报', disabled: !pos }),
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const p = here();
    if (!p) return;
    const data = new FormData(form);
    const props: Record<string, unknown> = { name: String(data.get('name')).trim(), category: data.get('category'), status: 'discovered', address: String(data.get('note') ?? '').trim() };
    if (data.get('funding')) props.funding = data.get('funding');
    const feature = { type: 'Feature', geometry: { type: 'Point', coordinates: [Number(p[0].toFixed(7)), Number(p[1].toFixed(7))] }, properties: props };
    void enqueue({ label: `上报工地 ${props.name as string}（${me.user}）`, method: 'POST', path: '/api/v1/projects', contentType: 'application/json', body: JSON.stringify(feature) }).then(() => {
      toast(navigator.onLine ? '已上报，正在发送' : '已保存在手机上，联网后发送');
      location.hash = '#queue';
    });
  });
  root.replaceChildren(form);
}
