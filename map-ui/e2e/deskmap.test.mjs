// The desk map speaks the users' language (issue 18), in Debian's chromium
// against the real binary with the Songjiang demo: no English word outside
// names in any view in zh-CN (and no Chinese in the interface in en), our
// own roads and place labels at street zoom, finding a grid by its manager,
// a working download beside every list, Beijing time, and a phone layout.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { launchBrowser, openPage, startServer } from './harness.mjs';

let server;
let browser;
let page;
/** Answers of 400 and above the page received, for the diagnosis of a download that never came. */
const refused = [];
/** Requests in flight. */
const pending = new Set();
/** Requests done, newest last. */
const finished = [];
let errors;
let me;

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  // Beijing time whatever the browser's zone: this page runs in New York.
  ({ page, errors } = await openPage(browser, server, { timezoneId: 'America/New_York' }));
  page.on('response', (r) => {
    if (r.status() >= 400) refused.push(`${r.status()} ${new URL(r.url()).pathname}`);
  });
  page.on('request', (r) => pending.add(r));
  page.on('console', (m) => finished.push(`console ${m.type()}: ${m.text().slice(0, 80)}`));
  page.on('requestfinished', (r) => {
    pending.delete(r);
    finished.push(new URL(r.url()).pathname);
  });
  page.on('requestfailed', (r) => pending.delete(r));
  me = await server.get('/api/v1/me').catch(() => null);
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

/** Names that are English by nature: file formats, the product, the language switch, the signed-in user. */
const ALLOWED = new Set(['gridpatrol', 'GPX', 'CSV', 'GeoJSON', 'Excel', 'GeoPackage', 'FlatGeobuf', 'English']);

/** The English words of a text that are not names: codes and ids (anything with a digit) left out. */
function englishWords(text) {
  const allowed = new Set([...ALLOWED, ...String(me?.user ?? '').split(/[^A-Za-z]+/)]);
  const words = [];
  for (const token of text.split(/[\s,，。；：:;()（）[\]【】·/|"'“”‘’<>=+]+/)) {
    if (!token || /\d/.test(token)) continue; // codes, ids, H3 cells, numbers with units
    for (const w of token.match(/[A-Za-z]{2,}/g) ?? []) if (!allowed.has(w)) words.push(w);
  }
  return words;
}

/** The page's visible text without the ids and codes the details keep for the curious (`.id`). */
async function visibleText(p = page) {
  return p.evaluate(() => {
    let text = document.body.innerText;
    for (const e of document.querySelectorAll('.id')) if (e.textContent) text = text.split(e.textContent).join(' ');
    return text;
  });
}

/** English found per view; the test fails at its end with all of them. */
const leaks = [];

async function assertNoEnglish(where, p = page) {
  const words = [...new Set(englishWords(await visibleText(p)))];
  if (words.length) leaks.push(`${where}: ${words.join(' ')}`);
}

async function street() {
  await page.click('a[data-view="map"]');
  await page.evaluate(() => void window.gridpatrol.map.setView([31.0405, 121.2295], 16, { animate: false }));
}

test('zh-CN: no English word outside names in any view', { timeout: 300_000 }, async () => {
  await page.waitForSelector('#map[data-towns-count="18"]');
  await assertNoEnglish('map, district zoom');
  await street();
  await page.waitForSelector('#map[data-cells-res="10"]', { timeout: 60_000 });
  await assertNoEnglish('map, street zoom');
  // a cell's details: named for people, its id kept in the table
  const cell = await page.evaluate(() => {
    const layers = window.gridpatrol.app.mapView.get('coverage').getLayers();
    const c = window.gridpatrol.map.getCenter();
    let best = null;
    let bestD = Infinity;
    for (const l of layers) {
      const d = l.getBounds().getCenter().distanceTo(c);
      if (d < bestD) [best, bestD] = [l, d];
    }
    return best.feature.id;
  });
  for (const l of ['projects', 'venues', 'tracks', 'districts']) await page.uncheck(`input[data-layer="${l}"]`);
  const at = await page.evaluate((id) => window.gridpatrol.featurePoint('coverage', id), cell);
  await page.mouse.click(at.x, at.y);
  await page.waitForSelector('#details[data-kind="cell"]:not([hidden])');
  await page.waitForFunction(() => /附近|距/.test(document.querySelector('#details h2')?.textContent ?? ''), null, { timeout: 20_000 });
  assert.match(await page.textContent('#details h2'), /网格/);
  assert.ok((await page.textContent('#details')).includes(String(cell)), 'the H3 id stays in the details');
  await assertNoEnglish('cell details');
  await page.click('#details .close');
  for (const l of ['projects', 'venues', 'tracks', 'districts']) await page.check(`input[data-layer="${l}"]`);

  // every list of the blind-spot desk
  await page.click('a[data-view="blindspots"]');
  const kinds = await page.$$eval('#blind-kind option', (os) => os.map((o) => o.value));
  for (const kind of kinds) {
    await page.selectOption('#blind-kind', kind);
    await page.waitForFunction(() => ['ready', 'error', 'na'].includes(document.querySelector('#panel-blindspots').dataset.state ?? ''), null, { timeout: 60_000 });
    await page.waitForFunction(() => !document.querySelector('#blind-body')?.textContent?.includes('加载中'), null, { timeout: 60_000 });
    await assertNoEnglish(`blind spots: ${kind}`);
    // the details of the first item of each list
    if (await page.locator('#blind-list > li').count()) {
      await page.click('#blind-list > li >> nth=0');
      await page.waitForSelector('#details:not([hidden])');
      await page.waitForTimeout(300);
      await assertNoEnglish(`blind spots: ${kind}, details`);
    }
  }
  await page.selectOption('#blind-kind', 'cells');
  await page.waitForSelector('#blind-list > li');
  const first = await page.textContent('#blind-list > li >> nth=0');
  assert.match(first, /附近|距/, 'a blind cell is named by its place');
  assert.doesNotMatch(first, /\b8[0-9a-f]{14}\b/, 'not by its H3 id');

  // a planned route: stops by place, reasons and left-outs in Chinese
  await page.click('a[data-view="routes"]');
  await page.waitForFunction(() => document.querySelectorAll('#route-grid option').length > 100, null, { timeout: 60_000 });
  const gridId = await page.evaluate(() => [...document.querySelectorAll('#route-grid option')].find((o) => o.textContent.includes('广富林街道 第10网格'))?.value ?? document.querySelectorAll('#route-grid option')[1].value);
  await page.selectOption('#route-grid', gridId);
  await page.waitForTimeout(600);
  await page.click('#route-pick');
  const box = await page.locator('#map').boundingBox();
  await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
  await page.click('#route-plan');
  await page.waitForSelector('#route-summary', { timeout: 90_000 });
  await assertNoEnglish('route planner with a planned route');
  // its GPX, saved from the button, reads in Chinese
  await page.waitForSelector('#route-gpx[data-ready="true"]', { timeout: 30_000 });
  const gpx = await downloaded('#route-gpx');
  assert.match(gpx.text, /<name>起点<\/name>/);
  assert.doesNotMatch(gpx.text, /<name>\d+\. (cell|work) /);
  const stop = await page.textContent('#route-stops li >> nth=0');
  assert.match(stop, /单元格 · |工程 · /, stop);
  // arrival in Beijing time although the browser is in New York
  // (the shift starts at 09:00 Beijing time; New York would read 20:00 the day before)
  const eta = /(\d{2}):(\d{2})/.exec(stop.split('预计到达')[1] ?? '');
  assert.ok(eta && eta[1] >= '09' && eta[1] <= '18', `ETA ${eta?.[0]} in Beijing time`);

  await page.click('a[data-view="scorecard"]');
  await page.waitForSelector('#score-table tbody tr');
  await assertNoEnglish('scorecard');

  await page.click('a[data-view="reports"]');
  await page.waitForSelector('#reports[data-state="ready"]', { timeout: 60_000 });
  await assertNoEnglish('reports');
  assert.ok((await page.locator('#coverage-trend svg path').count()) >= 18, 'a line per town');
  assert.ok((await page.locator('#hazard-trend svg path').count()) >= 1, 'hazard closure drawn');
  await page.selectOption('#report-level', 'grid');
  await page.waitForFunction(() => document.querySelectorAll('#coverage-table tbody tr').length > 1, null, { timeout: 60_000 });
  assert.match(await page.textContent('#coverage-table tbody'), /网格/);
  await assertNoEnglish('reports by grid');
  assert.deepEqual(leaks, [], 'English words in zh-CN views');
});

test('en: no Chinese in the interface text', { timeout: 60_000 }, async () => {
  await page.click('a[data-view="map"]');
  await page.click('#lang-button');
  try {
    assert.equal(await page.getAttribute('html', 'lang'), 'en');
    for (const view of ['map', 'blindspots', 'routes', 'scorecard', 'reports']) {
      await page.click(`a[data-view="${view}"]`);
      await page.waitForTimeout(500);
      const chrome = await page.evaluate(() =>
        [...document.querySelectorAll('[data-i18n], th, button, h3, .legend h4, .search-results .kind, #details th, .downloads, .layer-note, #coverage-stats')]
          .filter((e) => e.offsetParent !== null && e.id !== 'lang-button')
          .map((e) => e.textContent)
          .join(' | '),
      );
      // town and grid names head the columns of a few tables; they are names
      const names = await page.evaluate(() => window.gridpatrol.app.towns.map((t) => t.properties.name));
      let text = chrome;
      for (const n of names) text = text.split(n).join('');
      assert.doesNotMatch(text, /[\u4e00-\u9fff]/, `Chinese in the English interface of ${view}: ${text.match(/.{0,30}[\u4e00-\u9fff].{0,30}/)?.[0]}`);
    }
  } finally {
    await page.click('#lang-button');
  }
});

test('at zoom 16 our own road lines and place labels (bus stops among them) are drawn', { timeout: 90_000 }, async () => {
  await street();
  await page.waitForFunction(() => Number(document.querySelector('#map').dataset.roadsCount ?? 0) > 20, null, { timeout: 30_000 });
  await page.waitForFunction(() => Number(document.querySelector('#map').dataset.placeLabels ?? 0) > 0, null, { timeout: 30_000 });
  const labels = await page.locator('.place-label').allTextContents();
  assert.ok(labels.length >= 1 && labels.some((l) => /[\u4e00-\u9fff]/.test(l)), labels.join(','));
  // bus stops, named after their crossroads, among them
  await page.waitForFunction(() => Number(document.querySelector('#map').dataset.stopLabels ?? 0) > 0, null, { timeout: 30_000 });
  const stops = await page.locator('.place-label.place-stop').allTextContents();
  assert.ok(stops.some((l) => /路/.test(l)), stops.join(','));
  // the road canvas (its own pane, under the hexagons) holds drawn pixels
  const drawn = await page.evaluate(() => {
    const canvas = document.querySelector('.leaflet-basemap-pane canvas');
    if (!canvas) return 0;
    const { data } = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height);
    let n = 0;
    for (let i = 3; i < data.length; i += 4 * 5) if (data[i] > 0) n++;
    return n;
  });
  assert.ok(drawn > 2000, `road pixels: ${drawn}`);
  // district zoom: no roads asked for
  await page.evaluate(() => void window.gridpatrol.map.setView([31.03, 121.22], 11, { animate: false }));
  await page.waitForFunction(() => document.querySelector('#map').dataset.roadsCount === '0', null, { timeout: 10_000 });
});

test("searching a manager's name zooms the map to their grid", { timeout: 60_000 }, async () => {
  await page.click('a[data-view="map"]');
  const grids = (await server.get('/api/v1/grids?limit=1000')).features;
  const count = new Map();
  for (const g of grids) count.set(g.properties.manager, (count.get(g.properties.manager) ?? 0) + 1);
  const grid = grids.find((g) => count.get(g.properties.manager) === 1 && g.properties.manager);
  assert.ok(grid, 'a manager of one grid');
  await page.evaluate(() => void window.gridpatrol.map.setView([31.03, 121.22], 10, { animate: false }));
  await page.waitForSelector('#search-input[data-ready="true"]', { timeout: 30_000 });
  await page.fill('#search-input', grid.properties.manager);
  await page.waitForSelector('#search-results li[data-kind="grid"]');
  assert.match(await page.textContent('#search-results li >> nth=0'), new RegExp(grid.properties.name));
  await page.press('#search-input', 'Enter');
  await page.waitForFunction(() => window.gridpatrol.map.getZoom() >= 14, null, { timeout: 10_000 });
  const c = await page.evaluate(() => {
    const ll = window.gridpatrol.map.getCenter();
    return [ll.lng, ll.lat];
  });
  const ring = grid.geometry.type === 'MultiPolygon' ? grid.geometry.coordinates.flat(2) : grid.geometry.coordinates.flat(1);
  const [minX, maxX] = [Math.min(...ring.map((p) => p[0])), Math.max(...ring.map((p) => p[0]))];
  const [minY, maxY] = [Math.min(...ring.map((p) => p[1])), Math.max(...ring.map((p) => p[1]))];
  assert.ok(c[0] >= minX && c[0] <= maxX && c[1] >= minY && c[1] <= maxY, `centre ${c} in the grid ${grid.properties.name}`);
  assert.equal(await page.getAttribute('#map', 'data-searched'), `grid:${grid.properties.name}`);
  // grid names are labelled at this zoom
  await page.waitForFunction((name) => [...document.querySelectorAll('.place-label.place-grid')].some((e) => e.textContent === name), grid.properties.name, { timeout: 10_000 });
});

/** Clicks a download button and reads the file. */
/**
 * Clicks a download button and waits for the browser to save the file. Under
 * load, headless Chromium now and then drops a download after the page handed
 * it over (no event, no error; the server answered 200): the button is then
 * clicked once more, and the file must come.
 */
async function saveOf(selector) {
  const first = page.waitForEvent('download', { timeout: 20_000 }).catch(() => null);
  await page.click(selector);
  const d = await first;
  if (d) return d;
  const [again] = await Promise.all([page.waitForEvent('download', { timeout: 60_000 }), page.click(selector)]);
  return again;
}

async function downloaded(selector) {
  try {
    const d = await saveOf(selector);
    return { name: d.suggestedFilename(), text: readFileSync(await d.path(), 'utf8') };
  } catch (e) {
    const toast = await page.textContent('#toast').catch(() => '');
    throw new Error(`${selector}: no download (${e.message}); toast: ${toast}; refused: ${refused.slice(-10).join(', ')}; in flight: ${[...pending].slice(0, 12).map((r) => new URL(r.url()).pathname).join(', ')} (${pending.size}); last done: ${finished.slice(-6).join(', ')}`);
  }
}

/** The media type each format's file is served with. */
const MEDIA = {
  csv: /^text\/csv/,
  xlsx: /spreadsheetml/,
  geojson: /^application\/geo\+json/,
  gpkg: /^application\/geopackage\+sqlite3/,
  fgb: /^application\/flatgeobuf/,
};

/** Every button of a list's downloads fetches the server's export: 200, the format's media type, a file with its extension. */
async function everyFormat(box, spatial) {
  const formats = await page.locator(`${box} [data-format]`).evaluateAll((bs) => bs.map((b) => b.dataset.format));
  for (const f of ['csv', 'xlsx', 'geojson', 'gpkg', ...(spatial ? ['fgb'] : [])]) assert.ok(formats.includes(f), `${box}: ${formats} has ${f}`);
  for (const f of formats) {
    const [res, d] = await Promise.all([
      page.waitForResponse((r) => new URL(r.url()).searchParams.get('f') === f, { timeout: 60_000 }),
      saveOf(`${box} [data-format="${f}"]`),
    ]).catch((e) => {
      throw new Error(`${box} ${f}: ${e.message.split('\n')[0]}; refused: ${refused.slice(-5).join(', ')}`);
    });
    assert.equal(res.status(), 200, `${box} ${f}`);
    assert.match(res.headers()['content-type'] ?? '', MEDIA[f], `${box} ${f}`);
    assert.ok(d.suggestedFilename().endsWith(`.${f}`), `${box} ${f}: ${d.suggestedFilename()}`);
    assert.ok(readFileSync(await d.path()).length > 0, `${box} ${f}: a file`);
  }
}

function assertCsv({ name, text }, header) {
  assert.match(name, /\.csv$/);
  assert.equal(text.charCodeAt(0), 0xfeff, `${name}: a BOM for Excel`);
  const lines = text.slice(1).trim().split(/\r?\n/);
  assert.ok(lines[0].includes(header), `${name}: header ${lines[0]}`);
  assert.ok(lines.length >= 2, `${name}: rows`);
  return lines;
}

test('every list has a working download', { timeout: 180_000 }, async () => {
  await page.click('a[data-view="blindspots"]');
  await page.selectOption('#blind-kind', 'cells');
  await page.waitForSelector('#blind-list > li');
  const cells = assertCsv(await downloaded('#panel-blindspots .downloads [data-format="csv"]'), '原因');
  assert.match(cells[1], /附近|距/);
  const gj = JSON.parse((await downloaded('#panel-blindspots .downloads [data-format="geojson"]')).text);
  assert.ok(gj.features.length > 0 && gj.features[0].geometry.type === 'Polygon');
  await everyFormat('#panel-blindspots .downloads', true);
  for (const kind of ['districts', 'near_venues', 'works.uninspected']) {
    await page.selectOption('#blind-kind', kind);
    await page.waitForSelector('#panel-blindspots[data-state="ready"] .downloads', { timeout: 60_000 });
    if (await page.locator('#blind-list > li').count()) assertCsv(await downloaded('#panel-blindspots .downloads [data-format="csv"]'), '名称');
  }
  await page.click('a[data-view="scorecard"]');
  await page.waitForSelector('#score-table tbody tr');
  const score = assertCsv(await downloaded('#scorecard .downloads [data-format="csv"]'), '街镇');
  assert.ok(score.length >= 19, 'a row per town');
  await everyFormat('#scorecard .downloads', false);
  // one headless Chromium hands over only so many downloads (about three
  // dozen here; the next click saves nothing and says nothing): the reports'
  // files, the last two dozen, are saved in a browser of their own
  const first = page;
  const second = await launchBrowser();
  const reports = await openPage(second, server, { timezoneId: 'America/New_York' });
  page = reports.page;
  try {
    await page.click('a[data-view="reports"]');
    await page.waitForSelector('#reports[data-state="ready"]', { timeout: 60_000 });
    assertCsv(await downloaded('[data-report="coverage"] .downloads [data-format="csv"]'), '巡查覆盖率');
    assertCsv(await downloaded('[data-report="hazards"] .downloads [data-format="csv"]'), '隐患');
    const ledger = await downloaded('[data-report="ledger"] .downloads [data-format="csv"]');
    assert.equal(ledger.text.charCodeAt(0), 0xfeff);
    assert.ok(ledger.text.trim().split(/\r?\n/).length >= 2, 'ledger rows');
    for (const report of ['coverage', 'hazards', 'ledger']) await everyFormat(`[data-report="${report}"] .downloads`, false);
  } finally {
    page = first;
    errors.push(...reports.errors);
    await second.close().catch(() => {});
  }
});

test('on a phone (390×844): no horizontal overflow, sign-in usable', { timeout: 120_000 }, async () => {
  const phone = await openPage(browser, server, { viewport: { width: 390, height: 844 } });
  try {
    for (const view of ['map', 'blindspots', 'routes', 'scorecard', 'reports']) {
      await phone.page.click(`a[data-view="${view}"]`);
      await phone.page.waitForTimeout(600);
      const w = await phone.page.evaluate(() => Math.max(document.documentElement.scrollWidth, document.body.scrollWidth));
      assert.ok(w <= 390, `${view}: page ${w} px wide`);
    }
    await phone.context.close();
    const context = await browser.newContext({ viewport: { width: 390, height: 844 }, locale: 'zh-CN' });
    const p = await context.newPage();
    await p.goto(server.url + '/');
    await p.waitForSelector('#signin[open]');
    for (const sel of ['#signin-token', '#signin-submit', '#signin-cancel']) {
      const b = await p.locator(sel).boundingBox();
      assert.ok(b && b.x >= 0 && b.x + b.width <= 390 && b.y + b.height <= 844, `${sel} on screen: ${JSON.stringify(b)}`);
    }
    await p.fill('#signin-token', server.token);
    await p.click('#signin-submit');
    await p.waitForSelector('body[data-ready="true"]', { timeout: 60_000 });
    await context.close();
  } finally {
    await phone.context.close().catch(() => {});
  }
});

test('no console errors, page errors or failed requests', () => {
  assert.deepEqual(errors, []);
});
