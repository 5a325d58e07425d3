// The desk map on a phone (390 × 844): signing in is possible (the dialog and
// its button fit the screen) and no view scrolls sideways; the map keeps a
// usable height above the panels.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser } from './harness.mjs';

const PHONE = { width: 390, height: 844 };
let server;
let browser;

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

async function inView(page, selector) {
  const box = await page.locator(selector).boundingBox();
  assert.ok(box, `${selector} is shown`);
  assert.ok(box.x >= 0 && box.y >= 0 && box.x + box.width <= PHONE.width && box.y + box.height <= PHONE.height, `${selector} lies on the screen: ${JSON.stringify(box)}`);
}

test('the desk map signs in and shows every view without sideways scrolling on a phone', async () => {
  const context = await browser.newContext({ viewport: PHONE, isMobile: true, hasTouch: true, locale: 'zh-CN', timezoneId: 'Asia/Shanghai' });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(server.url + '/');
  await page.waitForSelector('#signin[open]');
  await inView(page, '#signin-token');
  await inView(page, '#signin-form button[type=submit]');
  await page.fill('#signin-token', server.token);
  await page.click('#signin-form button[type=submit]');
  await page.waitForSelector('body[data-ready="true"]', { timeout: 90_000 });
  await inView(page, '#auth-button');
  for (const view of ['map', 'blindspots', 'routes', 'scorecard']) {
    await page.click(`.tabs a[data-view="${view}"]`);
    await page.waitForTimeout(1500);
    const m = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, width: window.innerWidth, map: document.querySelector('#map')?.getBoundingClientRect().height ?? 0 }));
    assert.ok(m.scroll <= m.width, `${view} scrolls sideways: ${m.scroll} > ${m.width}`);
    if (view !== 'scorecard') assert.ok(m.map >= 300, `${view}: the map is ${m.map} px high`);
  }
  assert.deepEqual(errors, []);
  await context.close();
});
