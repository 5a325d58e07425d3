// The inbox (待办) of the signed-in user: a bell with the number of unread
// items in the top bar, and a list of open items, newest first, each with
// its texts (Chinese first), due day, the chain of escalation (督办) and a
// link to the work or hazard; read and done marks. Refreshed every minute.

import { api, apiBlob, offers } from './api';
import { lang, onLangChange, t } from './i18n';
import { h } from './util';

/** One item as `GET /api/v1/inbox` answers it. */
export interface InboxItem {
  id: number;
  kind: string;
  kind_zh: string;
  kind_en: string;
  title_zh: string;
  title_en: string;
  body_zh: string;
  body_en: string;
  owner: string;
  level: number;
  level_zh: string;
  due_on: string;
  created_at_beijing: string;
  read: boolean;
  project_id: number | null;
  hazard_id: number | null;
  grid_code: string | null;
  links: { work: string | null; hazard: string | null; grid: string | null; route: string | null };
  chain: Array<{ level: number; level_zh: string; recipient: string; recipient_name?: string | null; at: string }>;
}

export interface Inbox {
  unread: number;
  total: number;
  items: InboxItem[];
}

export async function loadInbox(): Promise<Inbox> {
  return api<Inbox>('/api/v1/inbox');
}

export async function markItem(id: number, mark: 'read' | 'done'): Promise<void> {
  await apiBlob(`/api/v1/inbox/${id}/${mark}`, { method: 'POST', body: {} });
}

const LEVEL_EN = ['owner', 'town lead', 'district'];

/** The chain as one line, people by their names: 责任人 夏卫国 → 街镇督办 yueyang-safety. */
export function chainText(item: InboxItem): string {
  return item.chain.map((s) => `${lang() === 'en' ? LEVEL_EN[s.level] ?? s.level_zh : s.level_zh} ${s.recipient_name ?? s.recipient}`).join(' → ');
}

/** One item as a list entry; `onWork` opens the work on the map. */
export function itemCard(item: InboxItem, refresh: () => void, onWork?: (id: number) => void): HTMLLIElement {
  const en = lang() === 'en';
  const read = h('button', { type: 'button', class: 'secondary', text: t('inbox.read'), disabled: item.read });
  const done = h('button', { type: 'button', text: t('inbox.done') });
  read.addEventListener('click', () => void markItem(item.id, 'read').then(refresh));
  done.addEventListener('click', () => void markItem(item.id, 'done').then(refresh));
  const actions = h('div', { class: 'inbox-actions' }, read, done);
  if (onWork && item.project_id !== null) {
    const open = h('button', { type: 'button', class: 'link-button', text: t('inbox.open_work') });
    const pid = item.project_id;
    open.addEventListener('click', () => onWork(pid));
    actions.prepend(open);
  }
  return h(
    'li',
    { class: `inbox-item level-${item.level}`, 'data-read': String(item.read), 'data-id': String(item.id) },
    h('div', { class: 'inbox-kind' }, h('span', { class: 'inbox-tag', text: en ? item.kind_en : item.kind_zh }), item.level > 0 ? h('span', { class: 'inbox-level', text: en ? LEVEL_EN[item.level] ?? '' : item.level_zh }) : null),
    h('div', { class: 'inbox-title', text: en ? item.title_en : item.title_zh }),
    h('div', { class: 'inbox-body', text: en ? item.body_en : item.body_zh }),
    h('div', { class: 'inbox-sub', text: `${t('inbox.due')} ${item.due_on} · ${item.created_at_beijing} · ${chainText(item)}` }),
    actions,
  );
}

/** The bell and its panel in the top bar. */
export class InboxBell {
  private button: HTMLButtonElement;
  private badge: HTMLElement;
  private panel: HTMLElement;
  private timer = 0;

  constructor(
    host: HTMLElement,
    private onWork: (id: number) => void,
  ) {
    this.badge = h('span', { class: 'inbox-badge', id: 'inbox-badge', hidden: true });
    this.button = h('button', { type: 'button', class: 'inbox-button', id: 'inbox-button', title: t('inbox.title'), 'aria-label': t('inbox.title') }, h('span', { class: 'inbox-label', 'data-i18n': 'inbox.title', text: t('inbox.title') }), this.badge);
    this.panel = h('section', { class: 'inbox-panel', id: 'inbox-panel', hidden: true });
    this.button.addEventListener('click', () => {
      this.panel.hidden = !this.panel.hidden;
      if (!this.panel.hidden) void this.refresh();
    });
    host.prepend(this.button);
    document.body.append(this.panel);
    onLangChange(() => void this.refresh());
  }

  start(): void {
    if (!offers('/api/v1/inbox')) return;
    void this.refresh();
    window.clearInterval(this.timer);
    this.timer = window.setInterval(() => void this.refresh(), 60_000);
  }

  async refresh(): Promise<void> {
    let inbox: Inbox;
    try {
      inbox = await loadInbox();
    } catch {
      return;
    }
    this.badge.hidden = inbox.unread === 0;
    this.badge.textContent = String(inbox.unread);
    document.body.dataset.inboxUnread = String(inbox.unread);
    if (this.panel.hidden) return;
    const close = h('button', { type: 'button', class: 'close', text: '×', 'aria-label': t('common.close') });
    close.addEventListener('click', () => (this.panel.hidden = true));
    const list = h('ul', { class: 'inbox-list' });
    const openWork = (id: number): void => {
      // the work's details (and its case file) show beside the map, not under the panel
      this.panel.hidden = true;
      this.onWork(id);
    };
    for (const item of inbox.items) list.append(itemCard(item, () => void this.refresh(), openWork));
    this.panel.replaceChildren(
      h('header', {}, h('h2', { text: `${t('inbox.title')} · ${t('inbox.count').replace('{n}', String(inbox.total)).replace('{u}', String(inbox.unread))}` }), close),
      inbox.items.length ? list : h('p', { class: 'inbox-empty', text: t('inbox.empty') }),
    );
    this.panel.dataset.ready = 'true';
  }
}
