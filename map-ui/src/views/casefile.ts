// The case file of a work (一工地一档) in its details panel: the status that
// follows from the records, the parties, every record with who and when
// (corrected ones struck through), the attachments, and links to the
// printable dossier, its Word copy and the 告知书. The files are fetched
// with the token and opened from a blob, since a plain link carries none.

import { api, apiBlob, offers } from '../api';
import { lang } from '../i18n';
import { h } from '../util';

type Rec = Record<string, unknown>;

const KIND_ZH: Record<string, string> = {
  filing: '备案',
  notice: '告知承诺',
  enforcement: '查处',
  handover: '移送',
  policy: '保险',
  hot_work_permit: '动火审批',
  insulation_filing: '保温材料备案',
  out_of_scope: '不属于小微工程',
};

const KIND_EN: Record<string, string> = {
  filing: 'Filing',
  notice: 'Notice',
  enforcement: 'Enforcement',
  handover: 'Hand-over',
  policy: 'Insurance',
  hot_work_permit: 'Hot-work permit',
  insulation_filing: 'Insulation filing',
  out_of_scope: 'Out of scope',
};

const zh = (): boolean => lang() === 'zh';

/** A record's one-line summary: its kind, its number or date, what matters. */
function summary(entry: Rec): string {
  const kind = String(entry.kind ?? '');
  const label = (zh() ? KIND_ZH : KIND_EN)[kind] ?? kind;
  const bits = [
    entry.filing === 'completion' ? (zh() ? '竣工' : 'completion') : entry.filing === 'start' ? (zh() ? '开工' : 'start') : null,
    entry.number ?? entry.doc_number ?? null,
    entry.date ?? entry.served_on ?? entry.from ?? null,
    entry.to && kind === 'handover' ? `→ ${String(entry.to)}` : null,
    entry.reason && kind === 'out_of_scope' ? String(entry.reason) : null,
  ].filter((b) => b !== null && b !== undefined && b !== '');
  return `${label} ${bits.map(String).join(' · ')}`;
}

async function openFile(path: string, name: string): Promise<void> {
  const blob = await apiBlob(path);
  const url = URL.createObjectURL(blob);
  if (blob.type.startsWith('text/html')) {
    window.open(url, '_blank', 'noopener');
  } else {
    const a = h('a', { href: url, download: name });
    document.body.append(a);
    a.click();
    a.remove();
  }
  window.setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

function fileLink(text: string, path: string, name: string, onError: (e: unknown) => void): HTMLElement {
  const a = h('a', { href: '#', class: 'casefile-link', 'data-path': path, text });
  a.addEventListener('click', (ev) => {
    ev.preventDefault();
    openFile(path, name).catch(onError);
  });
  return a;
}

const LEVEL_EN = ['owner', 'town lead', 'district'];
const STATUS_EN: Record<string, string> = { open: 'open', done: 'done (marked by its owner)', resolved: 'closed (the fact no longer holds)' };

/** The work's items of 督办: what fell due, how far it climbed, who was told, whether it is closed. */
function supervisionList(items: Rec[]): HTMLElement {
  const box = h('div', { class: 'casefile-supervision' }, h('h3', { text: zh() ? '督办记录' : 'Supervision (督办)' }));
  const ul = h('ul', { class: 'reasons' });
  if (items.length === 0) ul.append(h('li', { class: 'muted small', text: zh() ? '暂无督办事项' : 'Nothing supervised yet' }));
  for (const it of items) {
    const chain = ((it.chain as Rec[] | undefined) ?? [])
      .map((s) => `${zh() ? String(s.level_zh) : LEVEL_EN[Number(s.level)] ?? ''} ${String(s.recipient_name ?? s.recipient)}`)
      .join(' → ');
    const status = zh() ? String(it.status_zh) : STATUS_EN[String(it.status)] ?? String(it.status);
    const head = `${zh() ? String(it.title_zh) : String(it.title_en)} · ${status}`;
    const sub = `${zh() ? '期限' : 'due'} ${String(it.due_on)} · ${chain}`;
    ul.append(
      h(
        'li',
        { class: `supervision-item level-${String(it.level)}`, 'data-supervision': String(it.id), 'data-status': String(it.status) },
        h('div', { text: head }),
        h('div', { class: 'small muted', text: sub }),
      ),
    );
  }
  box.append(ul);
  return box;
}

/** The case-file section of a work's details panel. */
export async function caseFileSection(id: number, onError: (e: unknown) => void): Promise<HTMLElement> {
  const section = h('section', { class: 'extras casefile', 'data-casefile': String(id) });
  section.append(h('h3', { text: zh() ? '一工地一档' : 'Case file' }));
  if (!offers('/api/v1/projects/{id}/casefile', 'get')) {
    section.append(h('p', { class: 'layer-note na', text: zh() ? '暂不可用' : 'Not available yet' }));
    return section;
  }
  const links = h('p', { class: 'small' });
  links.append(
    fileLink(zh() ? '打印档案' : 'Printable dossier', `/api/v1/projects/${id}/dossier`, `dossier-${id}.html`, onError),
    ' · ',
    fileLink(lang() === 'zh' ? '可编辑文档' : 'Word', `/api/v1/projects/${id}/dossier?format=docx`, `dossier-${id}.docx`, onError),
    ' · ',
    fileLink(zh() ? '告知书' : 'Notice (告知书)', `/api/v1/projects/${id}/notice.docx`, `notice-${id}.docx`, onError),
  );
  section.append(links);
  try {
    const file = await api<Rec>(`/api/v1/projects/${id}/casefile`);
    const facts = h('ul', { class: 'reasons' });
    facts.append(h('li', { text: `${zh() ? '开工前书面告知' : 'Notified before start'}: ${file.notified ? '✓' : '✗'}` }));
    if (file.handed_over_to) facts.append(h('li', { text: `${zh() ? '已移送' : 'Handed over to'} ${String(file.handed_over_to)}` }));
    if (file.out_of_scope) facts.append(h('li', { text: `${zh() ? '不属于小微工程' : 'Out of scope'}: ${String(file.out_of_scope)}` }));
    for (const p of (file.parties as Rec[] | undefined) ?? []) {
      const party = (p.party ?? {}) as Rec;
      facts.append(h('li', { text: `${String(zh() ? p.role_zh : p.role)}: ${String(party.name ?? '')}` }));
    }
    section.append(facts);
    const corrected = new Set(((file.corrected as number[] | undefined) ?? []).map(Number));
    const records = (file.records as Rec[] | undefined) ?? [];
    const list = h('ul', { class: 'reasons casefile-records' });
    if (records.length === 0) list.append(h('li', { class: 'muted small', text: zh() ? '暂无档案记录' : 'No records yet' }));
    const names = (file.names ?? {}) as Record<string, string>;
    const who = (login: unknown): string => names[String(login)] ?? String(login ?? '');
    for (const r of records) {
      const li = h('li', { 'data-record': String(r.id ?? ''), text: `${summary((r.entry ?? {}) as Rec)} — ${who(r.recorded_by)}` });
      if (corrected.has(Number(r.id))) li.style.textDecoration = 'line-through';
      list.append(li);
    }
    section.append(list);
    section.append(supervisionList((file.supervision as Rec[] | undefined) ?? []));
    const attachments = (file.attachments as Rec[] | undefined) ?? [];
    if (attachments.length > 0) {
      const ul = h('ul', { class: 'reasons' });
      for (const a of attachments) {
        const name = String(a.file_name || `#${String(a.id)}`);
        ul.append(h('li', {}, fileLink(name, `/api/v1/attachments/${String(a.id)}`, name, onError)));
      }
      section.append(h('h3', { text: zh() ? '附件' : 'Attachments' }), ul);
    }
  } catch (e) {
    onError(e);
  }
  return section;
}
