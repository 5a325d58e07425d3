// Starts the real gridpatrol binary with the demo data on a temporary SQLite
// file and a free loopback port, and Debian's chromium through playwright-core.
// Shared by the end-to-end tests and the screenshot script.

import { spawn } from 'node:child_process';
import { mkdtempSync, existsSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium } from 'playwright-core';

const here = new URL('.', import.meta.url).pathname;
export const BIN = process.env.GRIDPATROL_BIN ?? resolve(here, '../../target/debug/gridpatrol');
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
  '--disable-sync',
];

function freePort() {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => res(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Starts `gridpatrol serve --demo`; resolves once /health answers 200.
 * Returns { url, token, get(path), stop() }.
 */
export async function startServer({ timeoutMs = Number(process.env.GRIDPATROL_E2E_START_MS ?? 600_000), env = {} } = {}) {
  if (!existsSync(BIN)) throw new Error(`no binary at ${BIN}: run cargo build or set GRIDPATROL_BIN`);
  const dir = mkdtempSync(join(tmpdir(), 'gridpatrol-e2e-'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(BIN, ['--database-url', `sqlite://${join(dir, 'e2e.db')}`, 'serve', '--demo', '--bind', `127.0.0.1:${port}`], {
    cwd: dir,
    env: { ...process.env, RUST_LOG: process.env.RUST_LOG ?? 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  child.stdout.on('data', (d) => (log += d));
  child.stderr.on('data', (d) => (log += d));
  let exited = null;
  child.on('exit', (code, signal) => (exited = { code, signal }));

  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (exited) throw new Error(`gridpatrol exited early (${JSON.stringify(exited)}):\n${log.slice(-4000)}`);
    try {
      const res = await fetch(`${url}/health`);
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`gridpatrol did not answer /health in ${timeoutMs} ms:\n${log.slice(-4000)}`);
    }
    await sleep(250);
  }
  // `serve --demo` writes an admin token here once access control exists.
  const tokenFile = join(dir, 'demo-admin.token');
  let token = null;
  for (let i = 0; i < 8 && !token; i++) {
    if (existsSync(tokenFile)) token = readFileSync(tokenFile, 'utf8').trim() || null;
    else await sleep(250);
  }
  const get = async (path) => {
    const res = await fetch(url + path, { headers: token ? { Authorization: `Bearer ${token}` } : {} });
    if (!res.ok) throw new Error(`${path}: HTTP ${res.status}`);
    return res.json();
  };
  const post = async (path, body) => {
    const res = await fetch(url + path, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', ...(token ? { Authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(body),
    });
    if (!res.ok) throw new Error(`POST ${path}: HTTP ${res.status} ${await res.text()}`);
    return res.json();
  };
  const stop = async () => {
    if (!exited) {
      child.kill('SIGTERM');
      for (let i = 0; i < 40 && !exited; i++) await sleep(100);
      if (!exited) child.kill('SIGKILL');
    }
    rmSync(dir, { recursive: true, force: true });
  };
  return { url, token, get, post, stop, log: () => log, databaseUrl: `sqlite://${join(dir, 'e2e.db')}` };
}

/** The page's probes for endpoints the OpenAPI document does not list (src/api.ts). */
const PROBES = [
  ['/api/v1/coverage', 'get', '/api/v1/coverage?res=7'],
  ['/api/v1/tracks', 'get', '/api/v1/tracks?limit=1'],
  ['/api/v1/blindspots/cells', 'get', '/api/v1/blindspots/cells?limit=1'],
  ['/api/v1/blindspots/districts', 'get', '/api/v1/blindspots/districts'],
  ['/api/v1/blindspots/near-venues', 'get', '/api/v1/blindspots/near-venues'],
  ['/api/v1/blindspots/works', 'get', '/api/v1/blindspots/works?kind=above_limit'],
  ['/api/v1/scorecard', 'get', '/api/v1/scorecard'],
  ['/api/v1/projects/{id}/inspections', 'get', '/api/v1/hazards?limit=1'],
  ['/api/v1/projects/{id}/inspections', 'post', '/api/v1/hazards?limit=1'],
  ['/api/v1/routes', 'post', '/api/v1/routes?limit=1'],
  ['/api/v1/routes/{id}', 'get', '/api/v1/routes?limit=1'],
];

/**
 * What the page will use: the endpoints the OpenAPI document lists, and those
 * the server serves without listing them (found the way the page finds them).
 * Returns offers(path, method) and documented(path, method).
 */
export async function capabilities(server) {
  let paths = {};
  try {
    paths = (await server.get('/api/v1/openapi.json')).paths ?? {};
  } catch {
    // none documented
  }
  const documented = (path, method = 'get') => Boolean(paths[path]?.[method]);
  const served = new Set();
  for (const [path, method, probe] of PROBES) {
    if (documented(path, method)) continue;
    const res = await fetch(server.url + probe, {
      headers: { 'X-Gridpatrol-Probe': '1', ...(server.token ? { Authorization: `Bearer ${server.token}` } : {}) },
    });
    await res.arrayBuffer();
    if (!(res.status === 204 && res.headers.get('x-gridpatrol-missing') === '1') && res.status !== 404) served.add(`${method} ${path}`);
  }
  const offers = (path, method = 'get') => documented(path, method) || served.has(`${method} ${path}`);
  offers.documented = documented;
  return offers;
}

export async function launchBrowser() {
  if (!existsSync(CHROMIUM)) throw new Error(`no chromium at ${CHROMIUM}: apt-get install -y chromium fonts-noto-cjk`);
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
}

/** A page that records console errors and page errors; signed in when a token exists. */
export async function openPage(browser, server, { viewport = { width: 1440, height: 900 }, signedIn = true, uiConfig = null, timezoneId = 'Asia/Shanghai' } = {}) {
  // With a tile source of the test's own, the page's CSP (made for the
  // server's configuration, which has none) is bypassed; http::ui's unit
  // tests check the CSP that a configured server sends.
  const context = await browser.newContext({ viewport, locale: 'zh-CN', timezoneId, acceptDownloads: true, deviceScaleFactor: 1, bypassCSP: !!uiConfig });
  // The base map as `serve` would announce it with GRIDPATROL_TILES* set.
  if (uiConfig) await context.route('**/ui-config.json', (route) => route.fulfill({ json: { ui_built: true, max_zoom: 18, attribution: null, ...uiConfig } }));
  if (signedIn && server.token) {
    await context.addInitScript((token) => window.localStorage.setItem('gridpatrol.token', token), server.token);
  }
  const page = await context.newPage();
  const errors = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error') errors.push(`console: ${msg.text()}`);
  });
  page.on('pageerror', (err) => errors.push(`pageerror: ${err.message}`));
  page.on('requestfailed', (req) => {
    // The page cancels a request it no longer needs (a superseded view); that is no failure.
    const why = req.failure()?.errorText ?? '';
    if (why !== 'net::ERR_ABORTED') errors.push(`requestfailed: ${req.url()} ${why}`);
  });
  await page.goto(server.url + '/', { waitUntil: 'load' });
  await page.waitForSelector('body[data-ready="true"]', { timeout: 90_000 });
  return { context, page, errors };
}
