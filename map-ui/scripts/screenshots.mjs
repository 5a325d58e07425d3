// Screenshots of each view for the docs, taken with the same browser and
// binary as the end-to-end tests: docs/screenshots/*.png.
//
//   node scripts/screenshots.mjs        (GRIDPATROL_BIN to pick the binary)

import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { capabilities, launchBrowser, openPage, startServer } from '../e2e/harness.mjs';

const out = resolve(new URL('.', import.meta.url).pathname, '../../docs/screenshots');
mkdirSync(out, { recursive: true });

const server = await startServer();
const offers = await capabilities(server);
const browser = await launchBrowser();
const shots = [];
try {
  const { page } = await openPage(browser, server, { viewport: { width: 1440, height: 900 } });
  const shot = async (name) => {
    await page.waitForTimeout(800);
    await page.screenshot({ path: `${out}/${name}.png` });
    shots.push(name);
  };
  const setView = (lat, lon, z) => page.evaluate(([a, b, c]) => void window.gridpatrol.map.setView([a, b], c, { animate: false }), [lat, lon, z]);

  const street = async () => {
    await setView(31.0405, 121.2295, 16);
    await page.waitForFunction(() => Number(document.querySelector('#map')?.dataset.roadsCount ?? 0) > 0, null, { timeout: 30_000 }).catch(() => {});
    await page.waitForTimeout(800);
  };
  const district = async () => {
    await setView(31.02, 121.225, 11);
    await page.waitForTimeout(800);
  };

  // 1. The whole district; then street level with our own roads and place labels.
  await page.waitForSelector('#map[data-towns-count="18"]');
  if (offers('/api/v1/coverage')) await page.waitForFunction(() => Number(document.querySelector('#map')?.dataset.cellsCount ?? 0) > 0, null, { timeout: 60_000 });
  await shot('coverage-map');
  await street();
  if (offers('/api/v1/coverage')) await page.waitForFunction(() => document.querySelector('#map')?.dataset.cellsRes === '10', null, { timeout: 60_000 }).catch(() => {});
  await shot('coverage-map-street');

  // 2. A cell's details at street level, named by its place.
  const cell = await page.evaluate(() => {
    const layer = window.gridpatrol.app.mapView.get('coverage');
    const c = window.gridpatrol.map.getCenter();
    let best = null;
    let bestD = Infinity;
    for (const l of layer?.getLayers() ?? []) {
      const d = l.getBounds().getCenter().distanceTo(c);
      if (d < bestD) [best, bestD] = [l, d];
    }
    return best?.feature.id ?? null;
  });
  if (cell) {
    for (const l of ['projects', 'venues', 'tracks', 'districts']) await page.uncheck(`input[data-layer="${l}"]`);
    const at = await page.evaluate((id) => window.gridpatrol.featurePoint('coverage', id), cell);
    if (at) await page.mouse.click(at.x, at.y);
    await page.waitForFunction(() => /附近|距/.test(document.querySelector('#details h2')?.textContent ?? ''), null, { timeout: 10_000 }).catch(() => {});
    await shot('cell-details');
    await page.evaluate(() => window.gridpatrol.app.hideDetails());
    for (const l of ['projects', 'venues', 'tracks', 'districts']) await page.check(`input[data-layer="${l}"]`);
  }

  // 3. Find my grid: a manager's name.
  const grids = (await server.get('/api/v1/grids?limit=1000')).features;
  const g = grids.find((f) => f.properties.code === '310117005-G10') ?? grids[0];
  await district();
  await page.waitForSelector('#search-input[data-ready="true"]', { timeout: 30_000 }).catch(() => {});
  await page.fill('#search-input', g.properties.manager);
  await page.waitForTimeout(400);
  await shot('search-manager');
  await page.press('#search-input', 'Enter');
  await page.waitForTimeout(1500);
  await shot('search-zoomed');
  await page.fill('#search-input', '');

  // 4. The blind-spot desk, at district zoom and at an item (street zoom).
  await page.click('a[data-view="blindspots"]');
  await page.waitForSelector('#panel-blindspots[data-state]');
  await district();
  if (offers('/api/v1/blindspots/cells')) await page.waitForSelector('#blind-list > li', { timeout: 60_000 }).catch(() => {});
  await shot('blindspot-desk');
  if (await page.locator('#blind-list > li').count()) await page.click('#blind-list > li >> nth=0');
  await page.waitForTimeout(1500);
  await shot('blindspot-desk-street');
  await page.evaluate(() => window.gridpatrol.app.hideDetails());

  // 5. The route planner: a planned route at street zoom, then the district.
  await page.click('a[data-view="routes"]');
  await page.waitForFunction(() => document.querySelectorAll('#route-grid option').length > 100, null, { timeout: 60_000 });
  await page.selectOption('#route-grid', String(g.id));
  await page.waitForTimeout(800);
  await page.click('#route-pick');
  const box = await page.locator('#map').boundingBox();
  await page.mouse.click(box.x + box.width * 0.5, box.y + box.height * 0.5);
  if (offers('/api/v1/routes', 'post')) {
    await page.click('#route-plan');
    await page.waitForSelector('#route-summary', { timeout: 60_000 }).catch(() => {});
  }
  await page.waitForTimeout(1200);
  await shot('route-planner');
  await district();
  await shot('route-planner-district');

  // 6. The scorecard and the reports (tables with their downloads and trends).
  await page.click('a[data-view="scorecard"]');
  await page.waitForSelector('#scorecard[data-state]');
  await page.waitForSelector('#score-table', { timeout: 30_000 }).catch(() => {});
  await shot('scorecard');
  await page.click('a[data-view="reports"]');
  await page.waitForSelector('#reports[data-state="ready"]', { timeout: 60_000 }).catch(() => {});
  await shot('reports');
  await page.evaluate(() => document.querySelector('[data-report="hazards"]')?.scrollIntoView());
  await shot('reports-hazards');

  // 7. The map in English, at street and district zoom.
  await page.click('a[data-view="map"]');
  await page.click('#lang-button');
  await street();
  await shot('coverage-map-street-en');
  await setView(31.03, 121.23, 12.5);
  await page.waitForTimeout(1500);
  await shot('coverage-map-en');
  await page.click('#lang-button');

  // 8. A phone.
  const phone = await openPage(browser, server, { viewport: { width: 390, height: 844 } });
  await phone.page.waitForSelector('#map[data-towns-count="18"]');
  await phone.page.waitForTimeout(1500);
  await phone.page.screenshot({ path: `${out}/phone-map.png` });
  shots.push('phone-map');
  await phone.context.close();
} finally {
  await browser.close();
  await server.stop();
}
console.log(`screenshots in ${out}: ${shots.join(', ')}`);
