// The base map: a configured tile source is used, a GCJ-02 source shifts our
// WGS-84 data for display (and a click shifts back), and an unreachable
// source leaves every vector layer on the plain background.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { launchBrowser, openPage, startServer } from './harness.mjs';

// A 1×1 PNG.
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==', 'base64');

let browser;
let tiles;
let tileHits = 0;
let tilePort;

before(async () => {
  tiles = createServer((req, res) => {
    tileHits++;
    res.writeHead(200, { 'Content-Type': 'image/png', 'Access-Control-Allow-Origin': '*' });
    res.end(PNG);
  });
  await new Promise((r) => tiles.listen(0, '127.0.0.1', r));
  tilePort = tiles.address().port;
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await new Promise((r) => tiles.close(r));
});

/** Metres between two lon/lat points (equirectangular; fine at this scale). */
function metres([lon1, lat1], [lon2, lat2]) {
  const k = Math.PI / 180;
  const x = (lon2 - lon1) * k * Math.cos(((lat1 + lat2) / 2) * k);
  const y = (lat2 - lat1) * k;
  return Math.hypot(x, y) * 6_371_000;
}

test('a GCJ-02 tile source is used and our data are shifted for display only', { timeout: 120_000 }, async () => {
  const server = await startServer({
    env: { GRIDPATROL_TILES: `http://127.0.0.1:${tilePort}/{z}/{x}/{y}.png`, GRIDPATROL_TILES_CRS: 'gcj02', GRIDPATROL_TILES_ATTRIBUTION: 'test tiles' },
  });
  try {
    const { page, errors, context } = await openPage(browser, server);
    await page.waitForSelector('#map[data-projects-count="500"]');
    assert.ok(tileHits > 0, 'tiles requested from the configured source');
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
    assert.deepEqual(errors, []);
    await context.close();
  } finally {
    await server.stop();
  }
});

test('an unreachable tile source leaves every vector layer on a plain background', { timeout: 120_000 }, async () => {
  // A port nothing listens on.
  const closed = createServer();
  await new Promise((r) => closed.listen(0, '127.0.0.1', r));
  const port = closed.address().port;
  await new Promise((r) => closed.close(r));
  const server = await startServer({ env: { GRIDPATROL_TILES: `http://127.0.0.1:${port}/{z}/{x}/{y}.png` } });
  try {
    const { page, errors, context } = await openPage(browser, server);
    await page.waitForSelector('#map[data-towns-count="18"]');
    await page.waitForSelector('#map[data-projects-count="500"]');
    assert.equal(await page.locator('.town-label').count(), 18);
    // Only the tiles failed; the page itself raised nothing.
    assert.deepEqual(errors.filter((e) => !e.includes(`127.0.0.1:${port}`) && !/Failed to load resource/.test(e)), []);
    await context.close();
  } finally {
    await server.stop();
  }
});
