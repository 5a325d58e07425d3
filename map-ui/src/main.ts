// Entry point: configuration, sign-in, the map and the four views.

// Leaflet's styles first, so that ours override them.
import 'leaflet/dist/leaflet.css';
import './style.css';
import './phone.css';
import L from 'leaflet';
import { App } from './app';
import { ApiError, api, getToken, loadCapabilities, offers, onUnauthorized, probeUndocumented, setCapabilities, setToken, type Schemas } from './api';
import { applyI18n, initLang, lang, onLangChange, setLang, t, tv } from './i18n';
import { DEFAULT_CONFIG, MapView, type UiConfig } from './map';
import { $ } from './util';
import { CoverageView } from './views/coverage';
import { BlindspotView } from './views/blindspots';
import { RouteView } from './views/routes';
import { ScorecardView } from './views/scorecard';
import { BaseMap, loadPlaces } from './basemap';
import { SearchBox, openOnOwnArea } from './search';
import { ReportsView } from './views/reports';
import { EvaluationView } from './views/evaluation';
import { InboxBell } from './inbox';
import type { Feature, Geometry } from 'geojson';

type ViewName = 'map' | 'blindspots' | 'routes' | 'scorecard' | 'reports' | 'evaluation';
const VIEWS: ViewName[] = ['map', 'blindspots', 'routes', 'scorecard', 'reports', 'evaluation'];

async function loadConfig(): Promise<UiConfig> {
  try {
    const res = await fetch('/ui-config.json', { headers: { Accept: 'application/json' } });
    if (res.ok) return { ...DEFAULT_CONFIG, ...((await res.json()) as Partial<UiConfig>) };
  } catch {
    // Served without the binary (e.g. a static copy): no tiles.
  }
  return DEFAULT_CONFIG;
}

// ---- sign-in ----------------------------------------------------------------

type Me = Schemas['Me'];
let me: Me | null = null;
let signInWaiters: Array<() => void> = [];
let started = false;

function renderAuthState(): void {
  const signedIn = !!getToken();
  $('#auth-state').textContent = signedIn ? (me ? `${me.user} · ${tv('role', me.role)}` : t('auth.signed_in')) : '';
  const b = $('#auth-button');
  b.dataset.i18n = signedIn ? 'auth.signout' : 'auth.signin';
  b.textContent = t(signedIn ? 'auth.signout' : 'auth.signin');
}

function showSignIn(): void {
  const dialog = $('#signin') as HTMLDialogElement;
  if (dialog.open) return;
  ($('#signin-error') as HTMLElement).hidden = true;
  ($('#signin-token') as HTMLInputElement).value = '';
  dialog.showModal();
}

/** Resolves once a token has been accepted. */
function waitForSignIn(): Promise<void> {
  showSignIn();
  return new Promise((resolve) => signInWaiters.push(resolve));
}

function setupSignIn(): void {
  const dialog = $('#signin') as HTMLDialogElement;
  const form = $('#signin-form') as HTMLFormElement;
  const input = $('#signin-token') as HTMLInputElement;
  const error = $('#signin-error');
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const token = input.value.trim();
    if (!token) return;
    void (async () => {
      try {
        const probe = offers('/api/v1/me') ? '/api/v1/me' : '/api/v1/towns?limit=1';
        const who = await api<Me & Record<string, unknown>>(probe, { token, quiet401: true });
        if (probe === '/api/v1/me') me = who;
      } catch (e) {
        if (e instanceof ApiError && (e.status === 401 || e.status === 403)) {
          error.textContent = t('auth.refused');
          error.hidden = false;
          return;
        }
      }
      setToken(token);
      dialog.close();
      renderAuthState();
      const waiters = signInWaiters;
      signInWaiters = [];
      if (waiters.length) waiters.forEach((w) => w());
      else if (started) location.reload(); // a token that expired mid-session
    })();
  });
  $('#signin-cancel').addEventListener('click', () => dialog.close());
  $('#auth-button').addEventListener('click', () => {
    if (getToken()) {
      setToken(null);
      location.reload();
    } else showSignIn();
  });
  onUnauthorized(() => {
    setToken(null);
    renderAuthState();
    showSignIn();
  });
  renderAuthState();
}

// ---- start -------------------------------------------------------------------

async function capabilities(): Promise<void> {
  for (;;) {
    try {
      await loadCapabilities();
      break;
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) {
        await waitForSignIn();
        continue;
      }
      // No OpenAPI document: try every endpoint and handle its answer.
      setCapabilities(null);
      return;
    }
  }
  // With access control, ask who we are before anything else, so that no
  // call is made without a valid token.
  if (offers('/api/v1/me')) await whoAmI();
  await probeUndocumented();
}

async function whoAmI(): Promise<void> {
  for (;;) {
    if (!getToken()) {
      await waitForSignIn();
      continue;
    }
    try {
      me = await api<Me>('/api/v1/me', { quiet401: true });
      renderAuthState();
      return;
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) {
        setToken(null);
        renderAuthState();
        continue;
      }
      return;
    }
  }
}

async function start(): Promise<void> {
  initLang();
  document.documentElement.lang = lang() === 'zh' ? 'zh-CN' : 'en';
  applyI18n(document);
  setupSignIn();
  $('#lang-button').addEventListener('click', () => setLang(lang() === 'zh' ? 'en' : 'zh'));
  onLangChange((l) => {
    document.documentElement.lang = l === 'zh' ? 'zh-CN' : 'en';
    document.title = `${t('app.title')} · gridpatrol`;
    applyI18n(document);
    renderAuthState();
  });
  document.title = `${t('app.title')} · gridpatrol`;

  const config = await loadConfig();
  const mapEl = $('#map');
  const mapView = new MapView(mapEl, config);
  const app = new App(mapView, $('#details'), $('#toast'));
  await capabilities();
  started = true;

  const coverage = new CoverageView(app, $('#panel-map'), mapEl);
  const blind = new BlindspotView(app, $('#panel-blindspots'));
  const routes = new RouteView(app, $('#panel-routes'), mapEl);
  const scorecard = new ScorecardView(app, $('#scorecard'));
  blind.init();
  routes.init();
  scorecard.init();
  const reports = new ReportsView(app, $('#reports'));
  reports.init();
  const evaluation = new EvaluationView(app, $('#evaluation'), () => me);
  evaluation.init();

  const show = (name: ViewName) => {
    document.querySelectorAll<HTMLAnchorElement>('.tabs a').forEach((a) => a.classList.toggle('active', a.dataset.view === name));
    document.querySelectorAll<HTMLElement>('.sidebar .panel').forEach((p) => (p.hidden = p.dataset.panel !== name));
    $('#scorecard').hidden = name !== 'scorecard';
    $('#reports').hidden = name !== 'reports';
    $('#evaluation').hidden = name !== 'evaluation';
    if (name === 'reports') reports.show();
    if (name === 'evaluation') void evaluation.show();
    if (document.body.dataset.view && document.body.dataset.view !== name) app.hideDetails();
    document.body.dataset.view = name;
    if (name === 'routes') routes.show();
    else routes.hide();
    if (name === 'blindspots') blind.show();
    if (name === 'scorecard') scorecard.show();
    else if (name !== 'reports' && name !== 'evaluation') mapView.map.invalidateSize();
  };
  const fromHash = (): ViewName => {
    const v = location.hash.replace(/^#\/?/, '') as ViewName;
    return VIEWS.includes(v) ? v : 'map';
  };
  window.addEventListener('hashchange', () => show(fromHash()));
  // The scorecard's side panel: the time window it is measured over.
  const side = $('#panel-scorecard-side');
  side.innerHTML = `<h2 data-i18n="score.title"></h2><h3 data-i18n="window.title"></h3>
    <div class="row">
      <label class="field"><span data-i18n="common.from"></span><input type="date" id="score-from"></label>
      <label class="field"><span data-i18n="common.to"></span><input type="date" id="score-to"></label>
    </div>`;
  applyI18n(side);
  const scoreFrom = $('#score-from') as HTMLInputElement;
  const scoreTo = $('#score-to') as HTMLInputElement;
  const syncScoreWindow = () => {
    scoreFrom.value = app.window.from;
    scoreTo.value = app.window.to;
  };
  syncScoreWindow();
  app.onWindowChange(syncScoreWindow);
  const onScoreDates = () => {
    if (scoreFrom.value && scoreTo.value && scoreFrom.value <= scoreTo.value) app.setWindow({ from: scoreFrom.value, to: scoreTo.value });
  };
  scoreFrom.addEventListener('change', onScoreDates);
  scoreTo.addEventListener('change', onScoreDates);

  const testHook = {
    app,
    map: mapView.map,
    /** Page coordinates of a feature of a layer group, for end-to-end tests. */
    featurePoint(group: string, id: number | string): { x: number; y: number } | null {
      const root = mapView.get(group) as L.LayerGroup | undefined;
      let found: L.Layer | null = null;
      const walk = (l: L.Layer) => {
        const f = (l as L.Layer & { feature?: { id?: unknown } }).feature;
        if (f && String(f.id) === String(id)) found = l;
        else if ((l as L.LayerGroup).eachLayer) (l as L.LayerGroup).eachLayer(walk);
      };
      if (root) walk(root);
      if (!found) return null;
      const l = found as L.Layer & { getLatLng?: () => L.LatLng; getBounds?: () => L.LatLngBounds };
      const ll = l.getLatLng ? l.getLatLng() : l.getBounds ? l.getBounds().getCenter() : null;
      if (!ll) return null;
      const p = mapView.map.latLngToContainerPoint(ll);
      const r = mapView.map.getContainer().getBoundingClientRect();
      return { x: r.left + p.x, y: r.top + p.y };
    },
    ready: false,
  };
  (window as unknown as { gridpatrol: typeof testHook }).gridpatrol = testHook;

  const basemap = new BaseMap(mapView, mapEl);
  basemap.init();
  // the inbox: what is late, for the signed-in user
  const bell = new InboxBell($('.top-actions'), (id) => {
    api<Feature<Geometry, Record<string, unknown>>>(`/api/v1/projects/${id}`)
      .then((f) => app.showDetails('project', f))
      .catch((e: unknown) => app.toast(app.errorText(e)));
  });
  bell.start();
  show(fromHash());
  await coverage.init();
  await openOnOwnArea(app, me?.scope);
  await new SearchBox(app).init();
  await loadPlaces(basemap);
  testHook.ready = true;
  document.body.dataset.ready = 'true';
}

void start();
