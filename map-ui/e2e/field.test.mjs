// The field app (/field/) on a phone: Debian's chromium at 390 × 844 with the
// position emulated. Signs in, patrols along a street (the track's cells
// reach coverage), goes offline, inspects a work with a finding and reports a
// discovered work, reloads while offline (nothing lost), comes back online:
// each write is stored exactly once, even when an answer is lost on the way.
// Also: installability as Chrome judges it, and no horizontal scrolling.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { tmpdir } from 'node:os';
import { spawnSync } from 'node:child_process';
import { BIN, startServer, launchBrowser } from './harness.mjs';

const PHONE = { width: 390, height: 844 };
// the screenshots of docs/screenshots are taken with SCREENSHOTS=1; otherwise they go to a temporary folder
const SHOTS = process.env.SCREENSHOTS === '1' ? resolve(new URL('.', import.meta.url).pathname, '../../docs/screenshots') : join(tmpdir(), 'gridpatrol-field-shots');
/** A street in 岳阳街道, heading north. */
const START = { longitude: 121.2249, latitude: 31.0135 };

let server;
let browser;
/** An officer of 岳阳街道, created with the command line as an administrator would. */
let officer;

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  const made = spawnSync(BIN, ['--database-url', server.databaseUrl, 'user', 'add', 'officer22', '--role', 'officer', '--scope', 'town:310117001'], { encoding: 'utf8' });
  assert.equal(made.status, 0, made.stderr);
  officer = made.stdout.trim();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

async function api(path) {
  const res = await fetch(server.url + path, { headers: { Authorization: `Bearer ${server.token}` } });
  assert.equal(res.status, 200, `${path}: ${res.status}`);
  return res.json();
}

async function noHorizontalScroll(page, what) {
  const { scroll, width } = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, width: window.innerWidth }));
  assert.ok(scroll <= width, `${what} scrolls sideways: ${scroll} > ${width}`);
}

async function waitQueue(page, waiting) {
  await page.waitForFunction((n) => document.body.dataset.waiting === String(n), waiting, { timeout: 60_000 });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

test('an officer patrols, inspects and reports offline, and everything arrives once', async () => {
  const context = await browser.newContext({
    viewport: PHONE,
    deviceScaleFactor: 2,
    isMobile: true,
    hasTouch: true,
    locale: 'zh-CN',
    timezoneId: 'Asia/Shanghai',
    geolocation: { ...START, accuracy: 8 },
    permissions: ['geolocation'],
  });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));

  // sign in with a token
  await page.goto(server.url + '/field/');
  await page.fill('#f-token', officer);
  await page.click('#f-signin-form button[type=submit]');
  await page.waitForSelector('body[data-ready="true"]');
  await page.waitForSelector('#f-routes');
  await noHorizontalScroll(page, 'today');
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: `${SHOTS}/field-today.png` });

  // installable: manifest, icons and a service worker controlling /field/
  const cdp = await context.newCDPSession(page);
  await page.evaluate(() => navigator.serviceWorker.ready);
  const { installabilityErrors } = await cdp.send('Page.getInstallabilityErrors');
  // a test's browser context is an incognito one, where Chrome installs nothing
  const blocking = installabilityErrors.filter((e) => e.errorId !== 'in-incognito');
  assert.deepEqual(blocking, [], JSON.stringify(installabilityErrors));
  const manifest = await (await fetch(server.url + '/field/manifest.webmanifest')).json();
  assert.equal(manifest.display, 'standalone');
  for (const size of ['192x192', '512x512']) {
    const icon = manifest.icons.find((i) => i.sizes === size);
    const res = await fetch(server.url + icon.src);
    assert.equal(res.headers.get('content-type'), 'image/png', icon.src);
  }

  // patrol along the street at e-bike speed: 40 fixes, 2.4 m apart, 400 ms apart
  await page.goto(server.url + '/field/#patrol');
  await page.waitForSelector('#f-start');
  const patrolStart = Date.now();
  await page.click('#f-start');
  await page.waitForSelector('#f-stop');
  for (let i = 1; i <= 40; i++) {
    await context.setGeolocation({ longitude: START.longitude, latitude: START.latitude + i * 0.0000216, accuracy: 6 });
    await sleep(400);
  }
  await page.waitForFunction(() => Number(document.querySelector('#f-fixes')?.textContent) >= 30);
  await noHorizontalScroll(page, 'patrol');
  await page.screenshot({ path: `${SHOTS}/field-patrol.png` });
  await page.click('#f-stop');
  await page.waitForSelector('#f-start');
  await waitQueue(page, 0);
  const tracks = await api('/api/v1/tracks?officer=officer22&limit=1000');
  // only the track of this patrol (any older one is filtered out)
  const mine = tracks.features.filter((f) => Date.parse(f.properties.ended_at) >= patrolStart - 5_000);
  assert.equal(mine.length, 1, 'one track');
  const track = mine[0];
  assert.ok(track.properties.point_count >= 30, `points: ${track.properties.point_count}`);
  assert.equal(track.properties.open, false, 'closed when the patrol stopped');
  const cells = await api(`/api/v1/tracks/${track.id ?? track.properties.id}/cells`);
  const trackCells = new Set(cells.cells.map((c) => c.cell));
  assert.ok(trackCells.size >= 2, `cells: ${trackCells.size}`);
  const coverage = await api('/api/v1/coverage?scope=town:310117001&res=10');
  // the town's cells that the patrol touched (a cell across the town's edge belongs to the next town)
  const touched = coverage.features.filter((f) => trackCells.has(f.properties.cell));
  assert.ok(touched.length >= 2, `the patrol's cells in the town: ${touched.length}`);
  for (const f of touched) assert.ok(f.properties.patrolled, `cell ${f.properties.cell} of the patrol is patrolled in coverage`);

  // the works list while online, then offline: inspect and report
  await page.goto(server.url + '/field/#inspect');
  await page.waitForSelector('#f-nearby a');
  await context.setOffline(true);
  await page.click('#f-nearby a');
  await page.waitForSelector('#f-inspect-form');
  const workName = await page.textContent('#f-inspect-form h2');
  assert.match(await page.textContent('#f-distance'), /我距工地 \d/);
  // the checklist: a failed item brings its finding along
  await page.selectOption('select[name=check-switch_box]', 'pass');
  await page.selectOption('select[name=check-no_extension_board]', 'fail');
  assert.ok(await page.isChecked('input[name=finding][value=extension_board]'));
  await page.check('input[name=finding][value=no_safety_briefing]');
  await page.check('input[name=fixed-no_safety_briefing]');
  await page.fill('input[name=parties]', '施工单位 项目负责人 李强');
  // a photo from the camera, made smaller on the phone
  await page.setInputFiles('input[name=photos]', resolve(new URL('.', import.meta.url).pathname, '../public/field/icon-512.png'));
  await page.waitForSelector('.f-photos img');
  await noHorizontalScroll(page, 'inspect');
  await page.screenshot({ path: `${SHOTS}/field-inspect.png`, fullPage: true });
  await page.click('#f-inspect-form button[type=submit]');
  await waitQueue(page, 2);
  await page.goto(server.url + '/field/#report').catch(() => undefined);
  await page.waitForSelector('#f-report-form');
  await page.fill('#f-report-form input[name=name]', '人民北路 18 号店铺装修（巡查发现）');
  await page.selectOption('#f-report-form select[name=category]', 'fit_out');
  await page.selectOption('#f-report-form select[name=funding]', 'social');
  await noHorizontalScroll(page, 'report');
  await page.screenshot({ path: `${SHOTS}/field-report.png` });
  await page.click('#f-report-form button[type=submit]');
  await waitQueue(page, 3);

  // a reload while offline loses nothing
  await page.reload();
  await page.waitForSelector('body[data-ready="true"]');
  await waitQueue(page, 3);
  await page.goto(server.url + '/field/#queue');
  await page.waitForSelector('#f-queue-list li[data-state="waiting"]');
  await noHorizontalScroll(page, 'queue');
  await page.screenshot({ path: `${SHOTS}/field-queue.png` });

  // back online; the first answer of the inspection is lost on the way back
  let lost = 0;
  await page.route('**/api/v1/projects/*/inspections', async (route) => {
    if (route.request().method() === 'POST' && lost === 0) {
      lost++;
      await route.fetch(); // the server stores it
      await route.abort('connectionreset'); // the phone never hears
      return;
    }
    await route.continue();
  });
  await context.setOffline(false);
  await page.evaluate(() => window.dispatchEvent(new Event('online')));
  await page.waitForFunction(() => document.body.dataset.waiting === '0', null, { timeout: 90_000 }).catch(async () => {
    await page.click('#f-send');
    await waitQueue(page, 0);
  });
  assert.equal(lost, 1, 'an answer was lost on the way');

  const works = await api('/api/v1/projects?limit=10000');
  const inspected = works.features.find((f) => f.properties.name === workName);
  const inspections = await api(`/api/v1/projects/${inspected.id ?? inspected.properties.id}/inspections`);
  assert.equal(inspections.count, 1, 'the inspection is stored once');
  const stored = inspections.items[0];
  assert.equal(stored.inspector, 'officer22');
  assert.equal(stored.hazards.length, 2, 'with its two findings');
  assert.equal(stored.hazards.filter((z) => z.closed_at).length, 1, 'the on-the-spot fix is closed at once');
  assert.deepEqual(stored.detail.checklist.map((c) => `${c.item}:${c.result}`).sort(), ['no_extension_board:fail', 'switch_box:pass']);
  assert.deepEqual(stored.detail.parties_present, ['施工单位 项目负责人 李强']);
  assert.ok(stored.detail.distance_m > 0, `distance ${stored.detail.distance_m}`);
  assert.equal(stored.detail.photos.length, 1, 'one photo');
  const photo = await fetch(`${server.url}/api/v1/attachments/${stored.detail.photos[0]}`, { headers: { Authorization: `Bearer ${officer}` } });
  assert.equal(photo.status, 200);
  assert.equal(photo.headers.get('content-type'), 'image/jpeg');
  const reported = works.features.filter((f) => f.properties.name === '人民北路 18 号店铺装修（巡查发现）');
  assert.equal(reported.length, 1, 'the discovered work is stored once');
  assert.equal(reported[0].properties.status, 'discovered');

  // follow up an overdue hazard of my town: an officer sends a re-inspection with a rectification photo
  await page.unroute('**/api/v1/projects/*/inspections');
  await page.goto(server.url + '/field/#today');
  await page.waitForSelector('#f-overdue a');
  const hazardId = (await page.getAttribute('#f-overdue a', 'href')).split('/')[1];
  await page.click('#f-overdue a');
  await page.waitForSelector('#f-followup-form');
  assert.equal(await page.locator('#f-followup-form [data-move]').count(), 0, 'an officer does not move hazards');
  await page.setInputFiles('#f-followup-form input[name=photos]', resolve(new URL('.', import.meta.url).pathname, '../public/field/icon-192.png'));
  await page.waitForSelector('#f-followup-form .f-photos img');
  await page.fill('#f-followup-form textarea[name=note]', '插线板已拆除');
  await noHorizontalScroll(page, 'follow-up');
  await page.screenshot({ path: `${SHOTS}/field-followup.png` });
  await page.click('#f-followup-submit');
  await page.waitForFunction(() => window.location.hash === '#queue');
  await waitQueue(page, 0);
  const hazard = await api(`/api/v1/hazards/${hazardId}`);
  const visits = await api(`/api/v1/projects/${hazard.project_id}/inspections`);
  const followUps = visits.items.filter((i) => i.note.startsWith(`复查隐患 #${hazardId}`));
  assert.equal(followUps.length, 1, 'one re-inspection');
  assert.equal(followUps[0].detail.photos.length, 1, 'with its photo');
  assert.deepEqual(errors, []);
  await context.close();
});
