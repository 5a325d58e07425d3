// The field app's inbox (待办): what is late for this officer — hazards
// near or past their deadline, works due an inspection — newest first, with
// the chain of escalation (督办); a tap marks one read or done. Kept for
// offline reading like the other reads; the marks need the network.

import { getToken } from '../api';
import { h } from '../util';
import { cachedGet, toast } from './net';

interface Item {
  id: number;
  kind_zh: string;
  title_zh: string;
  body_zh: string;
  level: number;
  level_zh: string;
  due_on: string;
  created_at_beijing: string;
  read: boolean;
  hazard_id: number | null;
  project_id: number | null;
  chain: Array<{ level_zh: string; recipient: string; recipient_name?: string | null }>;
}

interface Inbox {
  unread: number;
  total: number;
  items: Item[];
}

async function mark(id: number, what: 'read' | 'done'): Promise<boolean> {
  const token = getToken();
  const res = await fetch(`/api/v1/inbox/${id}/${what}`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${token ?? ''}`, 'Content-Type': 'application/json' },
    body: '{}',
  }).catch(() => null);
  return res?.ok ?? false;
}

/** The number of unread items, for the tab's badge. */
export async function inboxUnread(): Promise<number> {
  const inbox = await cachedGet<Inbox>('/api/v1/inbox');
  return inbox?.unread ?? 0;
}

export async function renderInbox(root: HTMLElement, onChange: () => void): Promise<void> {
  const inbox = await cachedGet<Inbox>('/api/v1/inbox');
  const card = h('section', { class: 'f-card', id: 'f-inbox-list' }, h('h2', { text: `待办（${inbox?.total ?? 0} 项，未读 ${inbox?.unread ?? 0} 项）` }));
  if (!inbox) {
    card.append(h('p', { class: 'f-sub', text: '离线且没有保存的待办' }));
  } else if (inbox.items.length === 0) {
    card.append(h('p', { class: 'f-sub', text: '没有待办事项' }));
  } else {
    const list = h('ul', { class: 'f-list f-inbox' });
    for (const it of inbox.items) {
      const done = h('button', { type: 'button', class: 'f-primary f-small', text: '已处理' });
      done.addEventListener('click', () => {
        void mark(it.id, 'done').then((ok) => {
          toast(ok ? '已标记处理' : '未能标记，请联网后再试');
          onChange();
        });
      });
      const open = it.hazard_id !== null ? h('a', { href: `#hazard/${it.hazard_id}`, text: '去复查' }) : null;
      const chain = it.chain.map((s) => `${s.level_zh} ${s.recipient_name ?? s.recipient}`).join(' → ');
      const li = h(
        'li',
        { 'data-read': String(it.read), 'data-id': String(it.id) },
        h(
          'div',
          {},
          h('div', { class: 'f-inbox-kind' }, h('span', { class: 'f-tag', text: it.kind_zh }), it.level > 0 ? h('span', { class: 'f-tag f-tag-warn', text: it.level_zh }) : null),
          h('div', { class: 'f-inbox-title', text: it.title_zh }),
          h('div', { class: 'f-sub', text: it.body_zh }),
          h('div', { class: 'f-sub', text: `期限 ${it.due_on} · ${it.created_at_beijing} · ${chain}` }),
        ),
        h('div', { class: 'f-inbox-actions' }, open, done),
      );
      if (!it.read) li.addEventListener('click', () => void mark(it.id, 'read'), { once: true });
      list.append(li);
    }
    card.append(list);
  }
  root.replaceChildren(card);
}
