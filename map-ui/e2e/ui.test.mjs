// End-to-end tests of the map UI: Debian's chromium (playwright-core)
// against the real gridpatrol binary serving the Songjiang demo.
// Endpoints that the server does not offer yet (per its OpenAPI document)
// must show a clear "not available yet" state; once they land, the same tests
// check the real behaviour.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { URLSearchParams } from 'node:url';
import { capabilities, launchBrowser, openPage, startServer } from './harness.mjs';

let server;
let browser;
let offers;
let page;
let errors;

before(async () => {
  server = await startServer();
  offers = await capabilities(server);
  browser = await launchBrowser();
  ({ page, errors } = await openPage(browser, server));
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

const NOT_AVAILABLE = /接口尚未提供|not available yet/;

test('the map shows the Songjiang towns, their labels and the coverage cells', { timeout: 90_000 }, async () => {
  await page.waitForSelector('#map[data-towns-count="18"]');
  const labels = await page.locator('.town-label').allTextContents();
  assert.equal(labels.length, 18);
  for (const name of ['岳阳街道', '泗泾镇', '佘山镇', '松江工业区']) assert.ok(labels.includes(name), name);
  assert.equal(await page.getAttribute('#map', 'data-projects-count'), '500');
  assert.equal(await page.getAttribute('#map', 'data-venues-count'), '118');
  // The legend says what the colours mean.
  const legend = await page.textContent('#legend');
  for (const word of ['从未巡查', '逾期', '近 3 天内']) assert.ok(legend.includes(word), word);
  if (offers('/api/v1/coverage')) {
    await page.waitForFunction(() => Number(document.querySelector('#map')?.dataset.cellsCount ?? 0) > 0, null, { timeout: 60_000 });
    // The tiles' canvases hold coloured cells: sample them for the scale's colours.
    const coloured = await page.evaluate(() => {
      let n = 0;
      for (const canvas of document.querySelectorAll('canvas.coverage-tile')) {
        const { data } = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height);
        for (let i = 0; i < data.length; i += 4 * 7) if (data[i + 3] > 0 && Math.abs(data[i] - data[i + 1]) > 60) n++;
      }
      return n;
    });
    assert.ok(coloured > 1000, `coloured pixels: ${coloured}`);
  } else {
    await page.waitForFunction(() => /接口尚未提供|not available yet/.test(document.querySelector('[data-note="coverage"]')?.textContent ?? ''));
  }
});

test('a click on a cell shows its patrol state; the tracks of a day are drawn', { timeout: 90_000 }, async (t) => {
  if (!offers('/api/v1/coverage')) {
    t.skip('no coverage endpoint yet');
    return;
  }
  // Street level in the old town: resolution-10 cells of the towns in view.
  await page.evaluate(() => void window.gridpatrol.map.setView([31.005, 121.235], 15, { animate: false }));
  await page.waitForSelector('#map[data-cells-res="10"]', { timeout: 60_000 });
  const id = await page.evaluate(() => {
    const layers = window.gridpatrol.app.mapView.get('coverage').getLayers();
    const c = window.gridpatrol.map.getCenter();
    // The cell nearest the centre, so that nothing else is on top of it.
    let best = null;
    let bestD = Infinity;
    for (const l of layers) {
      const d = l.getBounds().getCenter().distanceTo(c);
      if (d < bestD) [best, bestD] = [l, d];
    }
    return best.feature.id;
  });
  const at = await page.evaluate((cell) => window.gridpatrol.featurePoint('coverage', cell), id);
  // Projects and venues sit above the cells; hide them for this click.
  await page.uncheck('input[data-layer="projects"]');
  await page.uncheck('input[data-layer="venues"]');
  await page.uncheck('input[data-layer="tracks"]');
  await page.mouse.click(at.x, at.y);
  await page.waitForSelector('#details[data-kind="cell"]:not([hidden])');
  assert.equal(await page.getAttribute('#details', 'data-id'), String(id));
  assert.match(await page.textContent('#details'), /最近巡查/);
  await page.click('#details .close');
  for (const l of ['projects', 'venues', 'tracks']) await page.check(`input[data-layer="${l}"]`);
  if (offers('/api/v1/tracks')) {
    // The day picker starts on the latest patrolled day.
    await page.waitForFunction(() => document.querySelector('#map')?.dataset.tracksCount !== undefined);
    const n = Number(await page.getAttribute('#map', 'data-tracks-count'));
    const all = await server.get('/api/v1/tracks?limit=1');
    if (all.numberMatched > 0) assert.ok(n > 0, 'tracks of the latest day drawn');
  }
});

// ---- coverage tiles -----------------------------------------------------------

const TILES = '/api/v1/tiles/{layer}/{z}/{x}/{y}';
const TILE_URL = /\/api\/v1\/tiles\/coverage\/(\d+)\/(\d+)\/(\d+)\.mvt\?(.*)$/;
const GEOJSON_CELLS = /\/api\/v1\/coverage(\?|$)/;
const SCALE = { never: '#d7191c', overdue: '#fdae61', recent0: '#1a9850', recent1: '#66bd63', recent2: '#d9ef8b' };
const rgb = (hex) => [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
// docs/screenshots with SCREENSHOTS=1; otherwise a temporary folder
const SHOTS = process.env.SCREENSHOTS === '1' ? resolve(new URL('.', import.meta.url).pathname, '../../docs/screenshots') : join(tmpdir(), 'gridpatrol-tile-shots');

/** The legend class of a cell's state, as the legend states it (the test's own reading). */
function scaleClass(p, now = Date.now()) {
  const days = p.last_patrolled ? Math.floor((now - Date.parse(p.last_patrolled)) / 86_400_000) : null;
  if (!(p.patrolled === true || days !== null)) return 'never';
  if (p.overdue === true) return 'overdue';
  if (days === null || days <= 3) return 'recent0';
  return days <= 7 ? 'recent1' : 'recent2';
}

/** Pixels of the on-screen coverage tiles, counted by scale colour. */
function tilePixels(p) {
  return p.evaluate((scale) => {
    const counts = Object.fromEntries(Object.keys(scale).map((k) => [k, 0]));
    const box = document.querySelector('#map').getBoundingClientRect();
    for (const canvas of document.querySelectorAll('canvas.coverage-tile')) {
      const r = canvas.getBoundingClientRect();
      if (r.right <= box.left || r.left >= box.right || r.bottom <= box.top || r.top >= box.bottom) continue;
      const { data } = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height);
      for (let i = 0; i < data.length; i += 4 * 3) {
        if (data[i + 3] < 64) continue;
        for (const [k, [cr, cg, cb]] of Object.entries(scale)) {
          if (Math.abs(data[i] - cr) + Math.abs(data[i + 1] - cg) + Math.abs(data[i + 2] - cb) < 30) counts[k]++;
        }
      }
    }
    return counts;
  }, Object.fromEntries(Object.entries(SCALE).map(([k, v]) => [k, rgb(v)])));
}

/** The colour drawn at a point of the page, from the coverage tile under it. */
function tilePixelAt(p, x, y) {
  return p.evaluate(([px, py]) => {
    for (const canvas of document.querySelectorAll('canvas.coverage-tile')) {
      const r = canvas.getBoundingClientRect();
      if (px < r.left || px >= r.right || py < r.top || py >= r.bottom) continue;
      const cx = Math.floor(((px - r.left) * canvas.width) / r.width);
      const cy = Math.floor(((py - r.top) * canvas.height) / r.height);
      return [...canvas.getContext('2d').getImageData(cx, cy, 1, 1).data];
    }
    return null;
  }, [x, y]);
}

/** Waits until the tiles of the current zoom are drawn. */
async function tilesDrawn(p, zoom) {
  await p.waitForFunction((z) => document.querySelector('#map')?.dataset.cellsZoom === String(z) && Number(document.querySelector('#map').dataset.cellsCount) > 0, zoom, { timeout: 90_000 });
}

test('the coverage cells come from vector tiles at district and street zoom, on a desk and on a phone', { timeout: 300_000 }, async (t) => {
  if (!offers(TILES)) {
    t.skip('no vector tiles yet');
    return;
  }
  mkdirSync(SHOTS, { recursive: true });
  let compared = 0;
  for (const [device, viewport] of [
    ['desktop', { width: 1280, height: 800 }],
    ['phone', { width: 390, height: 844 }],
  ]) {
    const { page: p, errors: errs, context } = await openPage(browser, server, { viewport });
    const urls = [];
    p.on('request', (r) => urls.push(r.url()));
    // Every request from the start: the page again, now watched.
    await p.reload();
    await p.waitForSelector('body[data-ready="true"]', { timeout: 90_000 });
    await p.waitForSelector('#map[data-towns-count="18"]');
    // District zoom: the whole district in view, every resolution-10 cell drawn.
    const districtZoom = await p.evaluate(() => window.gridpatrol.map.getZoom());
    await tilesDrawn(p, districtZoom);
    const tiles = urls.map((u) => u.match(TILE_URL)).filter(Boolean);
    assert.ok(tiles.length > 0, `${device}: coverage tiles asked`);
    const { from, to } = await p.evaluate(() => window.gridpatrol.app.windowParams());
    for (const m of tiles) {
      const q = new URLSearchParams(m[4]);
      assert.deepEqual([q.get('from'), q.get('to')], [from, to], `${device}: a tile asks the view's window: ${m[0]}`);
    }
    assert.ok(tiles.some((m) => Number(m[1]) === Math.round(districtZoom)), `${device}: tiles of zoom ${districtZoom}`);
    const inDistrict = Number(await p.getAttribute('#map', 'data-cells-count'));
    assert.ok(inDistrict > 20_000, `${device}: the district's street cells at district zoom: ${inDistrict}`);
    assert.equal(await p.getAttribute('#map', 'data-cells-res'), '10');
    const wide = await tilePixels(p);
    assert.ok(Object.values(wide).reduce((a, b) => a + b, 0) > 2000, `${device}: coloured cells at district zoom ${JSON.stringify(wide)}`);
    assert.ok(Object.values(wide).filter((n) => n > 50).length >= 2, `${device}: more than one colour at district zoom ${JSON.stringify(wide)}`);
    await p.waitForTimeout(600); // the tiles fade in
    await p.screenshot({ path: join(SHOTS, `coverage-tiles-district-${device}.png`) });

    // Street zoom: the hexagons of the old town, from tiles of zoom 15.
    const before = urls.length;
    await p.evaluate(() => void window.gridpatrol.map.setView([31.0405, 121.2295], 16, { animate: false }));
    await tilesDrawn(p, 16);
    const street = urls.slice(before).map((u) => u.match(TILE_URL)).filter(Boolean);
    assert.ok(street.length > 0 && street.every((m) => Number(m[1]) === 15), `${device}: street tiles ${street.map((m) => m[0]).join(' ')}`);
    const near = await tilePixels(p);
    assert.ok(Object.values(near).reduce((a, b) => a + b, 0) > 5000, `${device}: coloured cells at street zoom ${JSON.stringify(near)}`);
    // The cell at the centre is drawn in the colour of its state.
    const centre = await p.evaluate(() => {
      const map = window.gridpatrol.map;
      const layer = window.gridpatrol.app.mapView.get('coverage');
      const cell = layer.cellAt(map.getCenter());
      const r = map.getContainer().getBoundingClientRect();
      const pt = map.latLngToContainerPoint(map.getCenter());
      return cell && { id: cell.id, props: cell.props, x: r.left + pt.x, y: r.top + pt.y };
    });
    assert.ok(centre, `${device}: a cell at the centre`);
    const [r, g, b, a] = await tilePixelAt(p, centre.x, centre.y);
    const want = rgb(SCALE[scaleClass(centre.props)]);
    assert.ok(a > 100 && Math.abs(r - want[0]) + Math.abs(g - want[1]) + Math.abs(b - want[2]) < 30, `${device}: cell ${centre.id} drawn ${[r, g, b, a]}, its state says ${SCALE[scaleClass(centre.props)]}`);
    await p.waitForTimeout(600);
    await p.screenshot({ path: join(SHOTS, `coverage-tiles-street-${device}.png`) });

    // The same cells and states as the GeoJSON answer for the area in view.
    if (device === 'desktop') {
      const drawn = await p.evaluate(() => window.gridpatrol.app.mapView.get('coverage').getLayers().map((l) => l.feature));
      const answer = await server.get(`/api/v1/coverage?res=10&from=${from}&to=${to}`);
      const byId = new Map(answer.features.map((f) => [String(f.properties.cell), f.properties]));
      for (const f of drawn) {
        const want = byId.get(f.id);
        assert.ok(want, `cell ${f.id} is in the coverage answer`);
        assert.deepEqual(
          [f.properties.patrolled, f.properties.visits, f.properties.last_patrolled ?? null, f.properties.overdue],
          [want.patrolled, want.visits, want.last_patrolled, want.overdue],
          `cell ${f.id}`,
        );
        compared++;
      }
    }

    // A new window asks the tiles again, with the new window.
    const asked = urls.length;
    await p.click('#win-presets .chip[data-days="7"]');
    await p.waitForFunction((n) => window.gridpatrol.app.windowParams().from !== n, from);
    const w = await p.evaluate(() => window.gridpatrol.app.windowParams());
    const newWindow = () => urls.slice(asked).map((u) => u.match(TILE_URL)).filter(Boolean);
    for (let i = 0; i < 300 && newWindow().length === 0; i++) await p.waitForTimeout(100);
    const again = newWindow();
    assert.ok(again.length > 0 && again.every((m) => new URLSearchParams(m[4]).get('from') === w.from), `${device}: tiles asked again for the new window`);

    // The coverage switch hides the tiles and shows them again.
    await p.uncheck('input[data-layer="coverage"]');
    assert.equal(await p.locator('canvas.coverage-tile').count(), 0);
    await p.check('input[data-layer="coverage"]');
    await p.waitForFunction(() => document.querySelectorAll('canvas.coverage-tile').length > 0);

    assert.deepEqual(urls.filter((u) => GEOJSON_CELLS.test(new URL(u).pathname + new URL(u).search)), [], `${device}: no GeoJSON cells asked`);
    assert.deepEqual(errs, []);
    await context.close();
  }
  assert.ok(compared > 100, `cells compared with the GeoJSON answer: ${compared}`);
});

test('a click on a project shows its details', { timeout: 60_000 }, async () => {
  const fc = await server.get('/api/v1/projects?limit=1&status=in_progress');
  const project = fc.features[0];
  const [lon, lat] = project.geometry.coordinates;
  const withLedger = offers('/api/v1/projects/{id}/inspections', 'post') && offers('/api/v1/projects/{id}/inspections');
  if (withLedger) {
    await server.post(`/api/v1/projects/${project.id}/inspections`, {
      inspected_at: new Date().toISOString(),
      inspector: '测试检查员',
      findings: [{ kind: 'no_switch_box', severity: 'major', deadline: new Date(Date.now() + 7 * 86_400_000).toISOString().slice(0, 10), note: 'e2e' }],
    });
  }
  await page.evaluate(([la, lo]) => void window.gridpatrol.map.setView([la, lo], 18, { animate: false }), [lat, lon]);
  await page.waitForTimeout(400);
  const at = await page.evaluate((id) => window.gridpatrol.featurePoint('projects', id), project.id);
  assert.ok(at, 'project drawn on the map');
  await page.mouse.click(at.x, at.y);
  await page.waitForSelector('#details[data-kind="project"]:not([hidden])');
  assert.equal(await page.getAttribute('#details', 'data-id'), String(project.id));
  const text = await page.textContent('#details');
  assert.ok(text.includes(project.properties.name), 'name shown');
  assert.ok(text.includes(project.properties.code), 'code shown');
  assert.ok(text.includes('在建'), 'status translated');
  if (withLedger) {
    await page.waitForSelector('#details [data-hazard]');
    const ledger = await page.textContent('#details .extras');
    assert.ok(ledger.includes('测试检查员'), 'inspector shown');
    assert.ok(ledger.includes('无开关箱'), 'hazard kind translated');
  } else if (!offers('/api/v1/projects/{id}/inspections')) {
    assert.match(text, NOT_AVAILABLE);
  }
  await page.click('#details .close');
  assert.equal(await page.isHidden('#details'), true);
});

test('the blind-spot desk lists blind spots and zooms the map to one', { timeout: 90_000 }, async () => {
  await page.click('a[data-view="blindspots"]');
  await page.waitForSelector('#panel-blindspots:not([hidden])');
  if (!offers('/api/v1/blindspots/cells')) {
    await page.waitForSelector('#panel-blindspots [data-state="not-available"]');
    assert.match(await page.textContent('#panel-blindspots'), NOT_AVAILABLE);
    return;
  }
  await page.evaluate(() => void window.gridpatrol.map.setView([31.03, 121.22], 10, { animate: false }));
  await page.waitForSelector('#blind-list > li', { timeout: 60_000 });
  const before = await page.evaluate(() => window.gridpatrol.map.getZoom());
  await page.click('#blind-list > li >> nth=0');
  await page.waitForFunction((z) => window.gridpatrol.map.getZoom() > z + 2, before, { timeout: 20_000 });
  await page.waitForSelector('#details:not([hidden])');
  assert.ok((await page.locator('#blind-list > li >> nth=0').getAttribute('class')).includes('active'));
});

test('planning a route draws it, numbers its stops and offers the GPX', { timeout: 120_000 }, async () => {
  await page.click('a[data-view="routes"]');
  await page.waitForSelector('#panel-routes:not([hidden])');
  if (!offers('/api/v1/routes', 'post')) {
    await page.waitForSelector('#panel-routes [data-state="not-available"]');
    assert.equal(await page.isDisabled('#route-plan'), true);
    return;
  }
  await page.waitForFunction(() => document.querySelectorAll('#route-grid option').length > 100, null, { timeout: 60_000 });
  const gridId = await page.evaluate(() => document.querySelectorAll('#route-grid option')[1].value);
  await page.selectOption('#route-grid', gridId);
  await page.waitForTimeout(600);
  await page.click('#route-pick');
  const box = await page.locator('#map').boundingBox();
  await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
  assert.doesNotMatch(await page.textContent('#route-start-text'), /尚未|No start/);
  await page.click('#route-plan');
  await page.waitForSelector('#route-summary', { timeout: 60_000 });
  const stops = await page.locator('.stop-marker').count();
  assert.ok(stops > 0, 'numbered stops drawn');
  assert.equal(await page.locator('#route-stops li').count(), stops);
  await page.waitForSelector('#route-gpx[data-ready="true"]', { timeout: 30_000 });
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#route-gpx')]);
  const gpx = readFileSync(await download.path(), 'utf8');
  assert.match(gpx, /<gpx[\s>]/);
});

test('the scorecard shows a table and a bar chart', { timeout: 60_000 }, async () => {
  await page.click('a[data-view="scorecard"]');
  await page.waitForSelector('#scorecard:not([hidden])');
  if (!offers('/api/v1/scorecard')) {
    await page.waitForSelector('#scorecard [data-state="not-available"]');
    return;
  }
  await page.waitForSelector('#score-table tbody tr');
  assert.ok((await page.locator('#score-table tbody tr').count()) >= 18);
  assert.ok((await page.locator('#score-chart svg rect').count()) >= 1);
});

test('the language switch translates the page', { timeout: 30_000 }, async () => {
  await page.click('a[data-view="map"]');
  assert.equal(await page.textContent('a[data-view="map"]'), '覆盖地图');
  await page.click('#lang-button');
  assert.equal(await page.textContent('a[data-view="map"]'), 'Coverage map');
  assert.equal(await page.getAttribute('html', 'lang'), 'en');
  const legend = await page.textContent('#legend');
  assert.ok(legend.includes('Never patrolled') && legend.includes('Overdue'), legend);
  assert.ok((await page.textContent('#panel-map')).includes('Layers'));
  // No Chinese left in the interface text (data such as names stay as they are).
  const chrome = await page.evaluate(() => [...document.querySelectorAll('[data-i18n]:not(#lang-button)')].map((e) => e.textContent).join(' '));
  assert.doesNotMatch(chrome, /[\u4e00-\u9fff]/);
  // The choice is remembered.
  await page.reload();
  await page.waitForSelector('body[data-ready="true"]');
  assert.equal(await page.textContent('a[data-view="map"]'), 'Coverage map');
  await page.click('#lang-button');
  assert.equal(await page.textContent('a[data-view="map"]'), '覆盖地图');
});

test('the sign-in box asks for a token when the API requires one', { timeout: 60_000 }, async (t) => {
  if (!server.token) {
    t.skip('the server does not require a token yet');
    return;
  }
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const p = await context.newPage();
  const pageErrors = [];
  p.on('pageerror', (err) => pageErrors.push(err.message));
  await p.goto(server.url + '/');
  await p.waitForSelector('#signin[open]');
  await p.fill('#signin-token', 'not-a-token');
  await p.click('#signin-submit');
  await p.waitForSelector('#signin-error:not([hidden])');
  await p.fill('#signin-token', server.token);
  await p.click('#signin-submit');
  await p.waitForSelector('body[data-ready="true"]', { timeout: 60_000 });
  await p.waitForSelector('#map[data-towns-count="18"]');
  assert.match(await p.textContent('#auth-state'), /demo|admin|管理员/i);
  assert.deepEqual(pageErrors, []);
  await context.close();
});

// ---- base map ---------------------------------------------------------------

// A 1×1 PNG.
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==', 'base64');

/** A local tile source that counts its requests. */
async function tileServer() {
  let hits = 0;
  const srv = createServer((req, res) => {
    hits++;
    res.writeHead(200, { 'Content-Type': 'image/png' });
    res.end(PNG);
  });
  await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  return { port: srv.address().port, hits: () => hits, close: () => new Promise((r) => srv.close(r)) };
}

/** Metres between two lon/lat points (equirectangular; fine at this scale). */
function metres([lon1, lat1], [lon2, lat2]) {
  const k = Math.PI / 180;
  const x = (lon2 - lon1) * k * Math.cos(((lat1 + lat2) / 2) * k);
  const y = (lat2 - lat1) * k;
  return Math.hypot(x, y) * 6_371_000;
}

test('a GCJ-02 tile source is used and our data are shifted for display only', { timeout: 120_000 }, async () => {
  {
    const tiles = await tileServer();
    const { page, errors, context } = await openPage(browser, server, {
      uiConfig: { tiles: `http://127.0.0.1:${tiles.port}/{z}/{x}/{y}.png`, gcj02: true, attribution: 'test tiles' },
    });
    await page.waitForSelector('#map[data-projects-count="500"]');
    assert.ok(tiles.hits() > 0, 'tiles requested from the configured source');
    assert.match(await page.textContent('.leaflet-control-attribution'), /test tiles/);
    const fc = await server.get('/api/v1/projects?limit=1');
    const p = fc.features[0];
    const wgs = p.geometry.coordinates;
    const shown = await page.evaluate((id) => {
      let ll = null;
      window.gridpatrol.app.mapView.get('projects').eachLayer((l) => {
        if (l.feature?.id === id) ll = l.getLatLng();
      });
      return ll && [ll.lng, ll.lat];
    }, p.id);
    const shift = metres(wgs, shown);
    assert.ok(shift > 300 && shift < 800, `GCJ-02 shift in Songjiang is a few hundred metres, got ${shift.toFixed(0)} m`);
    // A click on the shown position gives back the WGS-84 point (the route start).
    await page.click('a[data-view="routes"]');
    await page.evaluate(([lat, lon]) => void window.gridpatrol.map.setView([lat, lon], 17, { animate: false }), [shown[1], shown[0]]);
    await page.waitForTimeout(300);
    const at = await page.evaluate((id) => window.gridpatrol.featurePoint('projects', id), p.id);
    await page.click('#route-pick');
    await page.mouse.click(at.x, at.y);
    const [lon, lat] = (await page.textContent('#route-start-text')).split(',').map(Number);
    assert.ok(metres(wgs, [lon, lat]) < 5, `start ${lon},${lat} is the project's WGS-84 position ${wgs}`);
    if (offers(TILES)) {
      // The coverage tiles shift every vertex they draw; a click finds the cell drawn under it.
      await page.click('a[data-view="map"]');
      for (const l of ['projects', 'venues', 'tracks', 'districts']) await page.uncheck(`input[data-layer="${l}"]`);
      await page.evaluate(() => void window.gridpatrol.map.setView([31.0405, 121.2295], 16, { animate: false }));
      await tilesDrawn(page, 16);
      const cell = await page.evaluate(() => {
        const map = window.gridpatrol.map;
        const layer = window.gridpatrol.app.mapView.get('coverage');
        const c = layer.cellAt(map.getCenter());
        if (!c) return null;
        const shownAt = layer.getLayers().find((l) => l.feature.id === c.id).getBounds().getCenter();
        const pt = map.latLngToContainerPoint(shownAt);
        const r = map.getContainer().getBoundingClientRect();
        return { id: c.id, lonLat: [...c.lonLat], shown: [shownAt.lng, shownAt.lat], x: r.left + pt.x, y: r.top + pt.y };
      });
      assert.ok(cell, 'a cell drawn at the centre');
      const n = cell.lonLat.length / 2;
      const centre = [0, 1].map((k) => cell.lonLat.filter((_, i) => i % 2 === k).reduce((a, b) => a + b, 0) / n);
      const cellShift = metres(centre, cell.shown);
      assert.ok(cellShift > 300 && cellShift < 800, `a cell is drawn shifted by ${cellShift.toFixed(0)} m`);
      const px = await tilePixelAt(page, cell.x, cell.y);
      assert.ok(px && px[3] > 100, `the shifted cell is drawn: ${px}`);
      await page.mouse.click(cell.x, cell.y);
      await page.waitForSelector('#details[data-kind="cell"]:not([hidden])');
      assert.equal(await page.getAttribute('#details', 'data-id'), cell.id);
    }
    assert.deepEqual(errors, []);
    await context.close();
    await tiles.close();
  }
});

test('an unreachable tile source leaves every vector layer on a plain background', { timeout: 120_000 }, async () => {
  // A port nothing listens on.
  const closed = createServer();
  await new Promise((r) => closed.listen(0, '127.0.0.1', r));
  const port = closed.address().port;
  await new Promise((r) => closed.close(r));
  {
    const { page, errors, context } = await openPage(browser, server, { uiConfig: { tiles: `http://127.0.0.1:${port}/{z}/{x}/{y}.png`, gcj02: false } });
    await page.waitForSelector('#map[data-towns-count="18"]');
    await page.waitForSelector('#map[data-projects-count="500"]');
    assert.equal(await page.locator('.town-label').count(), 18);
    // Only the tiles failed; the page itself raised nothing.
    assert.deepEqual(errors.filter((e) => !e.includes(`127.0.0.1:${port}`) && !/Failed to load resource/.test(e)), []);
    await context.close();
  }
});

test('the endpoints the page uses are in the OpenAPI document', (t) => {
  // The page also finds undocumented ones (a probe the server answers 204
  // when nothing serves the path); each is worth documenting.
  for (const [method, path] of [
    ['get', '/api/v1/coverage'],
    ['get', '/api/v1/tracks'],
    ['get', '/api/v1/blindspots/cells'],
    ['get', '/api/v1/blindspots/districts'],
    ['get', '/api/v1/blindspots/near-venues'],
    ['get', '/api/v1/blindspots/works'],
    ['get', '/api/v1/scorecard'],
    ['get', '/api/v1/projects/{id}/inspections'],
    ['post', '/api/v1/routes'],
  ]) {
    if (offers(path, method) && !offers.documented(path, method)) t.diagnostic(`served but not in the OpenAPI document: ${method.toUpperCase()} ${path}`);
    else if (!offers(path, method)) t.diagnostic(`not served yet: ${method.toUpperCase()} ${path}`);
  }
});

test('no console errors, page errors or failed requests', () => {
  assert.deepEqual(errors, []);
});
