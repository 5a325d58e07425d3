// The half-year evaluation view (issue 15), in Debian's chromium against
// the real binary with the Songjiang demo: the district opens a period and
// sees every town's six items measured with a chart; a town's
// self-assessment is filled in and submitted beside the measured values;
// the district picks a town for the on-site evaluation, draws works from
// a seed and records what it found; the draft 通报 downloads as Word; and
// nothing in the view is English in zh-CN.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { launchBrowser, openPage, startServer } from './harness.mjs';

// the screenshots of docs/screenshots are taken with SCREENSHOTS=1; otherwise they go to a temporary folder
const SHOTS = process.env.SCREENSHOTS === '1' ? resolve(new URL('.', import.meta.url).pathname, '../../docs/screenshots') : join(tmpdir(), 'gridpatrol-eval-shots');
const YUEYANG = '310117001';

/** The half-year of today in Beijing time, e.g. 2026H2. */
function period() {
  const d = new Date(Date.now() + 8 * 3_600_000);
  return `${d.getUTCFullYear()}H${d.getUTCMonth() < 6 ? 1 : 2}`;
}

let server;
let browser;
let page;
let errors;

before(async () => {
  mkdirSync(SHOTS, { recursive: true });
  server = await startServer();
  browser = await launchBrowser();
  ({ page, errors } = await openPage(browser, server));
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

const ALLOWED = new Set(['Word', 'Excel', 'gridpatrol', 'English']);

/** The English words of a text that are not names (the signed-in user's login is a name). */
function englishWords(text, user = '') {
  const allowed = new Set([...ALLOWED, ...user.split(/[^A-Za-z]+/)]);
  const words = [];
  for (const token of text.split(/[\s,，。；：:;()（）[\]【】·/|"'“”‘’<>=+→★✓]+/)) {
    if (!token || /\d/.test(token)) continue;
    for (const w of token.match(/[A-Za-z]{2,}/g) ?? []) if (!allowed.has(w)) words.push(w);
  }
  return words;
}

test('a period from opening to the draft, in the browser', { timeout: 300_000 }, async () => {
  await page.click('a[data-view="evaluation"]');
  await page.waitForSelector('#evaluation[data-state="ready"]', { timeout: 60_000 });
  await page.fill('#eval-new-period', period());
  await page.click('#evaluation .eval-head button');
  await page.waitForSelector('#eval-table tbody tr[data-town]', { timeout: 120_000 });
  assert.equal(await page.locator('#eval-table tbody tr[data-town]').count(), 18, 'every town');
  assert.ok((await page.locator('#eval-chart svg .bar').count()) >= 18, 'a bar per town');
  const head = await page.textContent('#eval-table thead');
  for (const item of ['机构设置', '开工（竣工）备案', '告知承诺', '全面纳管', '监督检查', '项目管理', '管理创新']) assert.ok(head.includes(item), item);

  // 岳阳街道's self-assessment, submitted
  await page.click(`#eval-table tr[data-town="${YUEYANG}"]`);
  await page.waitForSelector('#eval-self h3:has-text("岳阳街道")');
  await page.fill('input[name="score:notice"]', '15');
  await page.fill('textarea[name="problems:notice"]', '部分社会投资项目开工后才书面告知');
  await page.fill('textarea[name="plan:notice"]', '备案窗口同步送达告知书');
  await page.fill('input[name="score:organisation"]', '12');
  await page.check('input[name="decl:leading_group"]');
  await page.fill('input[name="ev:leading_group"]', '关于成立小微工程管理工作领导小组的通知');
  await page.check('input[name="decl:staff"]');
  await page.fill('input[name="ev:staff"]', '小微工程专人分工表');
  await page.click('#eval-self button.primary');
  await page.waitForSelector('#eval-self p.small:has-text("已提交")', { timeout: 60_000 });
  const overview = await server.get('/api/v1/evaluations');
  const id = overview.items[0].id;
  const o = await server.get(`/api/v1/evaluations/${id}`);
  const yy = o.towns.find((t) => t.town === YUEYANG);
  assert.equal(yy.self_assessment.status, 'submitted');
  const notice = yy.measured.items.find((i) => i.item === 'notice').score;
  if (notice < 13.5) assert.match(await page.textContent('#eval-self'), /告知承诺：自评15分/);
  assert.equal(yy.measured.items.find((i) => i.item === 'organisation').score, 8, 'two declarations with evidence');

  // the on-site evaluation: pick 岳阳街道, draw five works from a seed, record a finding
  await page.check(`#eval-site .eval-towns input[value="${YUEYANG}"]`);
  await page.click('#eval-site > button');
  await page.waitForSelector(`.eval-site-town[data-town="${YUEYANG}"] input[name="size"]`, { timeout: 60_000 });
  await page.fill(`.eval-site-town[data-town="${YUEYANG}"] input[name="seed"]`, '2026');
  await page.click(`.eval-site-town[data-town="${YUEYANG}"] button.primary`);
  await page.waitForSelector(`.eval-site-town[data-town="${YUEYANG}"] details.eval-work`, { timeout: 60_000 });
  assert.equal(await page.locator(`.eval-site-town[data-town="${YUEYANG}"] details.eval-work`).count(), 5);
  assert.match(await page.textContent(`.eval-site-town[data-town="${YUEYANG}"]`), /种子 2026.*按种子复核一致/);
  const first = page.locator(`.eval-site-town[data-town="${YUEYANG}"] details.eval-work`).first();
  await first.locator('input[value="no_switch_box"]').check();
  await first.locator('input[value="extension_board"]').check();
  await first.locator('button').click();
  await page.waitForSelector(`.eval-site-town[data-town="${YUEYANG}"] summary:has-text("✓")`, { timeout: 60_000 });
  assert.match(await page.textContent(`.eval-site-town[data-town="${YUEYANG}"]`), /发现问题 2 个/);

  // the draft 通报 as Word
  const [d] = await Promise.all([page.waitForEvent('download', { timeout: 60_000 }), page.click('#evaluation .downloads button[data-format="docx"]')]);
  assert.match(d.suggestedFilename(), /情况通报（草稿）\.docx$/);
  const bytes = readFileSync(await d.path());
  assert.equal(bytes.subarray(0, 4).toString('latin1'), 'PK\u0003\u0004');

  const me = await server.get('/api/v1/me');
  const words = englishWords(await page.evaluate(() => document.querySelector('#evaluation').innerText), me.user);
  assert.deepEqual([...new Set(words)], [], 'no English in the zh-CN evaluation view');
  await page.click(`#eval-table tr[data-town="${YUEYANG}"]`);
  await page.evaluate(() => document.querySelector('#evaluation').scrollTo(0, 0));
  await page.screenshot({ path: join(SHOTS, 'evaluation.png') });
  await page.evaluate(() => document.querySelector('#eval-self').scrollIntoView());
  await page.screenshot({ path: join(SHOTS, 'evaluation-self.png') });
  await page.evaluate(() => document.querySelector('#eval-site').scrollIntoView());
  await page.screenshot({ path: join(SHOTS, 'evaluation-site.png') });
  assert.deepEqual(errors, []);
});
