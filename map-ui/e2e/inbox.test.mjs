// The inbox (待办) in the desk map and in the field app, against the real
// binary with the demo data: an officer records a hazard due tomorrow, the
// server's notifier puts a reminder in their inbox within seconds (it follows
// the data version), the field app shows it on the 待办 tab with its badge;
// the desk map's bell shows the district's late facts, and an item's work
// lists it in its case file (督办记录). Screenshots go to
// docs/screenshots/inbox-*.png and casefile-supervision.png with SCREENSHOTS=1.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { tmpdir } from 'node:os';
import { spawnSync } from 'node:child_process';
import { BIN, startServer, launchBrowser } from './harness.mjs';

const SHOTS = process.env.SCREENSHOTS === '1' ? resolve(new URL('.', import.meta.url).pathname, '../../docs/screenshots') : join(tmpdir(), 'gridpatrol-inbox-shots');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

let server;
let browser;
let officer;

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  const made = spawnSync(BIN, ['--database-url', server.databaseUrl, 'user', 'add', 'officer21', '--role', 'officer', '--scope', 'town:310117001'], { encoding: 'utf8' });
  assert.equal(made.status, 0, made.stderr);
  officer = made.stdout.trim();
  mkdirSync(SHOTS, { recursive: true });
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

async function call(token, method, path, body) {
  const res = await fetch(server.url + path, {
    method,
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : null };
}

const beijingDay = (offsetDays) => new Date(Date.now() + 8 * 3_600_000 + offsetDays * 86_400_000).toISOString().slice(0, 10);

test('a hazard due tomorrow reaches the officer’s inbox; the desk bell lists late facts', { timeout: 300_000 }, async () => {
  const works = await call(server.token, 'GET', '/api/v1/projects?town=310117001&limit=1');
  assert.equal(works.status, 200);
  const work = works.json.features[0];
  const inspected = await call(officer, 'POST', `/api/v1/projects/${work.id}/inspections`, {
    inspected_at: new Date(Date.now() - 60_000).toISOString(),
    inspector: 'officer21',
    findings: [{ kind: 'extension_board', severity: 'general', deadline: beijingDay(1), note: '二层使用移动插线板' }],
  });
  assert.equal(inspected.status, 201, JSON.stringify(inspected.json));
  let inbox;
  for (let i = 0; i < 60; i++) {
    inbox = await call(officer, 'GET', '/api/v1/inbox');
    if (inbox.json?.total > 0) break;
    await sleep(500);
  }
  assert.equal(inbox.status, 200);
  assert.equal(inbox.json.total, 1, JSON.stringify(inbox.json));
  const item = inbox.json.items[0];
  assert.equal(item.kind, 'hazard_deadline_near');
  assert.match(item.title_zh, /隐患整改期限将至/);
  assert.equal(item.links.hazard, `/api/v1/hazards/${item.hazard_id}`);

  // the field app: the 待办 tab with its badge
  const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true, locale: 'zh-CN', timezoneId: 'Asia/Shanghai' });
  const p = await phone.newPage();
  await p.goto(server.url + '/field/');
  await p.fill('#f-token', officer);
  await p.click('#f-signin-form button[type=submit]');
  await p.waitForSelector('body[data-ready="true"]');
  await p.waitForSelector('#f-inbox-badge:not([hidden])');
  assert.equal(await p.textContent('#f-inbox-badge'), '1');
  await p.goto(server.url + '/field/#inbox');
  await p.waitForSelector('#f-inbox-list li');
  assert.match(await p.textContent('#f-inbox-list'), /隐患整改期限将至/);
  await p.screenshot({ path: `${SHOTS}/inbox-field.png` });
  await phone.close();

  // the desk map: the admin's bell (the demo's late facts fall to the district)
  const desk = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'zh-CN', timezoneId: 'Asia/Shanghai' });
  const d = await desk.newPage();
  await d.addInitScript((token) => window.localStorage.setItem('gridpatrol.token', token), server.token);
  await d.goto(server.url + '/');
  await d.waitForSelector('body[data-ready="true"]', { timeout: 120_000 });
  await d.waitForSelector('#inbox-badge:not([hidden])', { timeout: 60_000 });
  await d.click('#inbox-button');
  await d.waitForSelector('#inbox-panel[data-ready="true"] .inbox-item');
  const shown = await d.$$eval('#inbox-panel .inbox-item', (els) => els.length);
  assert.ok(shown > 0);
  await d.screenshot({ path: `${SHOTS}/inbox-desk.png` });

  // an item's work: its case file lists the item under 督办记录, with its chain by name
  await d.click('#inbox-panel .inbox-item .link-button');
  await d.waitForSelector('.casefile-supervision [data-supervision]', { timeout: 30_000 });
  const supervised = await d.textContent('.casefile-supervision');
  assert.match(supervised, /督办记录/);
  assert.match(supervised, /办理中|已办结/);
  assert.match(supervised, /责任人|街镇督办|区级督办/);
  await d.$eval('.casefile-supervision', (el) => el.scrollIntoView());
  await d.screenshot({ path: `${SHOTS}/casefile-supervision.png` });
  await desk.close();
});
