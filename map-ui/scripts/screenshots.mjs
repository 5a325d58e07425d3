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

  // 1. The whole district.
  await page.waitForSelector('#map[data-towns-count="18"]');
  if (offers('/api/v1/coverage')) await page.waitForFunction(() => Number(document.querySelector('#map')?.dataset.cellsCount ?? 0) > 0, null, { timeout: 60_000 });
  await shot('coverage-map');

  // 2. Street level in the old town, a project's details open.
  const fc = await server.get('/api/v1/projects?limit=200&status=in_progress&town=310117004');
  const project = fc.features.find((f) => f.properties.hot_work) ?? fc.features[0];
  const [lon, lat] = project.geometry.coordinates;
  await setView(lat, lon, 15);
  if (offers('/api/v1/coverage')) await page.waitForFunction(() => document.querySelector('#map')?.dataset.cellsRes === '10', null, { timeout: 60_000 }).catch(() => {});
  await page.waitForTimeout(600);
  const at = await page.evaluate((id) => window.gridpatrol.featurePoint('projects', id), project.id);
  if (at) await page.mouse.click(at.x, at.y);
  await page.waitForSelector('#details:not([hidden])', { timeout: 10_000 }).catch(() => {});
  await shot('project-details');
  await page.evaluate(() => window.gridpatrol.app.hideDetails());

  // 3. The blind-spot desk, one item zoomed to.
  await page.click('a[data-view="blindspots"]');
  await page.waitForSelector('#panel-blindspots[data-state]');
  if (offers('/api/v1/blindspots/cells')) {
    await page.waitForSelector('#blind-list > li', { timeout: 60_000 }).catch(() => {});
    if (await page.locator('#blind-list > li').count()) await page.click('#blind-list > li >> nth=0');
  }
  await shot('blindspot-desk');
  await page.evaluate(() => window.gridpatrol.app.hideDetails());

  // 4. The route planner.
  await page.click('a[data-view="routes"]');
  await page.waitForFunction(() => document.querySelectorAll('#route-grid option').length > 100, null, { timeout: 60_000 });
  const grid = await server.get('/api/v1/grids?town=310117004&limit=1');
  const gridId = String(grid.features[0].id);
  await page.selectOption('#route-grid', gridId);
  await page.waitForTimeout(800);
  await page.click('#route-pick');
  const box = await page.locator('#map').boundingBox();
  await page.mouse.click(box.x + box.width * 0.45, box.y + box.height * 0.55);
  if (offers('/api/v1/routes', 'post')) {
    await page.click('#route-plan');
    await page.waitForSelector('#route-summary', { timeout: 60_000 }).catch(() => {});
  }
  await shot('route-planner');

  // 5. The scorecard.
  await page.click('a[data-view="scorecard"]');
  await page.waitForSelector('#scorecard[data-state]');
  await page.waitForSelector('#score-table', { timeout: 30_000 }).catch(() => {});
  await shot('scorecard');

  // 6. The map in English.
  await page.click('a[data-view="map"]');
  await page.click('#lang-button');
  await setView(31.03, 121.23, 12.5);
  await page.waitForTimeout(1500);
  await shot('coverage-map-en');
  await page.click('#lang-button');
} finally {
  await browser.close();
  await server.stop();
}
console.log(`screenshots in ${out}: ${shots.join(', ')}`);
