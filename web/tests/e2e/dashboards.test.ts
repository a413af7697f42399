// Browser tests of the dashboards and the app catalog against a real dohyo
// (`dohyo demo`: the server plus 7 days of demo traffic, CloudTrail included,
// sent through its own HTTP sources).
//
//   make build && cd web && DOHYO_BIN=../bin/dohyo npx vitest run --config vitest.e2e.config.ts tests/e2e/dashboards.test.ts
//
// The time until every panel of a 12-panel dashboard over 7 days has drawn
// is measured (cold and from the shared cache) and written to
// tests/e2e/last-dashboards-run.json: reported, never asserted.
// DOHYO_SCREENSHOTS=1 writes docs/dashboard-*.png, one per CloudTrail dashboard.

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { ADMIN_PASSWORD, countMatches, launchBrowser, startServer, stopServer, waitFor, type Server } from './harness';

const shots = process.env.DOHYO_SCREENSHOTS ? resolve(__dirname, '../../../docs') : '';

let server: Server;
let browser: Browser;
let ctx: BrowserContext;
let page: Page;
const pageErrors: string[] = [];
const measured: Record<string, unknown> = {};

function basic(s: Server) {
  return 'Basic ' + Buffer.from(`${s.accessId}:${s.accessKey}`).toString('base64');
}

async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(server.url + path, {
    method,
    headers: { Authorization: basic(server), 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

/** allDrawn waits until every panel has finished (results, empty, error) and every chart has drawn. */
async function allDrawn(timeout = 120_000) {
  await page.waitForFunction(
    () => {
      const panels = [...document.querySelectorAll('[data-testid=dash-panel]')];
      if (!panels.length) return false;
      if (document.querySelector('[data-testid=dash-status]')?.getAttribute('data-done') !== '1') return false;
      if (!panels.every((p) => ['ok', 'empty', 'error', 'text'].includes(p.getAttribute('data-state') ?? ''))) return false;
      return [...document.querySelectorAll('.panel-chart')].every((c) => c.getAttribute('data-drawn') === '1');
    },
    null,
    { timeout, polling: 50 },
  );
}

/** panelStates lists every panel's title, state and (for errors) message. */
/** saveDashboard saves the edited dashboard and waits until it has left
 * edit mode, URL included: the URL follows in an effect after the render,
 * and a reload before it would open the editor again. */
async function saveDashboard() {
  await page.click('[data-testid=dash-save]');
  await page.waitForSelector('[data-testid=dash-edit]');
  await page.waitForURL((u) => !/[?&]edit=1/.test(u.toString()));
}

async function panelStates(): Promise<{ title: string; state: string; error: string }[]> {
  return page.evaluate(() =>
    [...document.querySelectorAll('[data-testid=dash-panel]')].map((p) => ({
      title: p.getAttribute('aria-label') ?? '',
      state: p.getAttribute('data-state') ?? '',
      error: p.querySelector('[data-testid=panel-error]')?.textContent ?? '',
    })),
  );
}

async function typeInEditor(selector: string, text: string) {
  await page.focus(selector + ' .cm-content');
  await page.keyboard.press('Control+A');
  await page.keyboard.press('Delete');
  await page.keyboard.insertText(text);
}

/** clickChartUntilSearch clicks a panel's chart at the given points (pixels in the chart) until one opens the search page; it returns the search's query. */
async function clickChartUntilSearch(panel: Locator, points: (w: number, h: number) => [number, number][]): Promise<string> {
  const box = (await panel.locator('.panel-chart').boundingBox())!;
  for (const [x, y] of points(box.width, box.height)) {
    await page.mouse.click(box.x + x, box.y + y);
    try {
      await page.waitForURL(/\/search\?/, { timeout: 1500 });
      return new URL(page.url()).searchParams.get('q') ?? '';
    } catch {
      /* nothing there: the next point */
    }
  }
  throw new Error('no click on the chart opened the search page');
}

// A 12-panel dashboard over the demo's three streams, every chart type.
const CT = '_sourceCategory=aws/cloudtrail';
const WEB = '_sourceCategory=demo/web/access';
const PAY = '_sourceCategory=demo/app/payments';
const twelve = {
  title: 'E2E twelve panels',
  timeRange: { from: '-7d', to: 'now' },
  variables: [{ name: 'region', label: 'Region', kind: 'list', values: ['us-east-1', 'eu-west-1', 'us-west-2'], allowAll: true }],
  panels: [
    { title: 'Web requests per hour', query: `${WEB} | timeslice 1h | count by _timeslice`, visualization: { type: 'line' } },
    { title: 'Web status codes', query: `${WEB} | parse regex "\\" (?<status>\\d{3}) " | count by status | sort by status asc`, visualization: { type: 'column' } },
    { title: 'Payment errors per hour', query: `${PAY} ERROR | timeslice 1h | count by _timeslice`, visualization: { type: 'area' } },
    { title: 'Payment log levels', query: `${PAY} | parse regex "^\\S+ \\S+ (?<level>[A-Z]+)" | count by level`, visualization: { type: 'pie' } },
    { title: 'Top CloudTrail events', query: `${CT} | json field=_raw "eventName" as event_name | count by event_name | sort by _count | limit 10`, visualization: { type: 'bar' } },
    { title: 'CloudTrail event sources', query: `${CT} | json field=_raw "eventSource" as event_source | count by event_source`, visualization: { type: 'pie' } },
    { title: 'CloudTrail events by region', query: `${CT} | json field=_raw "awsRegion" as region | where region matches "{{region}}" | timeslice 6h | count by _timeslice, region`, visualization: { type: 'column', stacked: true } },
    { title: 'CloudTrail events', query: `${CT} | count`, visualization: { type: 'single_value' } },
    { title: 'Web requests', query: `${WEB} | timeslice 1h | count by _timeslice`, visualization: { type: 'single_value', sparkline: true, valueMode: 'sum', thresholds: [{ value: 0, color: 'green' }] } },
    { title: 'Identity types', query: `${CT} | json field=_raw "userIdentity.type" as identity_type nodrop | count by identity_type`, visualization: { type: 'table' } },
    { title: 'Sources by region', query: `${CT} | json field=_raw "eventSource", "awsRegion" as event_source, region | count by event_source, region`, visualization: { type: 'heatmap' } },
    {
      title: 'Visitors',
      query: `${WEB} | parse regex "^(?<ip>\\S+)" | count by ip | lookup latitude, longitude, country_name from geo://location on ip=ip | where !isNull(latitude) | sum(_count) as _count by latitude, longitude, country_name`,
      visualization: { type: 'map' },
    },
  ].map((p, i) => ({ ...p, id: `p${i + 1}`, layout: { x: (i % 3) * 8, y: Math.floor(i / 3) * 7, w: 8, h: 7 } })),
};

beforeAll(async () => {
  server = await startServer(Number(process.env.DOHYO_E2E_DASH_EVENTS || 300_000), '7d');
  // "backfill done" means sent: wait until the week of CloudTrail records is searchable (the count stops growing but for live traffic).
  let last = -1;
  await waitFor(
    async () => {
      const n = await countMatches(server, '_sourceCategory=aws/cloudtrail', Date.now() - 8 * 86_400_000);
      const settled = n > 0 && last > 0 && n - last <= Math.max(50, n / 200);
      last = n;
      if (!settled) await new Promise((r) => setTimeout(r, 1500));
      return settled;
    },
    300_000,
    'the demo CloudTrail records to be searchable',
  );
  measured.cloudTrailRecords7d = last;
  browser = await launchBrowser();
  ctx = await browser.newContext({ viewport: { width: 1440, height: 900 }, timezoneId: 'UTC' });
  page = await ctx.newPage();
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.on('crash', () => pageErrors.push('the page crashed'));
  page.on('console', (m) => {
    if (m.type() === 'error' && /Content Security Policy/.test(m.text())) pageErrors.push(m.text());
  });
  page.on('dialog', (d) => void d.accept());
  await page.goto(server.url + '/');
  await page.fill('input[name=username]', 'admin');
  await page.fill('input[name=password]', ADMIN_PASSWORD);
  await page.click('button[type=submit]');
  await page.waitForSelector('[data-testid=nav-dashboards]');
}, 600_000);

afterAll(async () => {
  await browser?.close();
  await stopServer(server);
  writeFileSync(resolve(__dirname, 'last-dashboards-run.json'), JSON.stringify(measured, null, 2) + '\n');
  console.log('measured:', JSON.stringify(measured, null, 2));
});

afterEach(async (t) => {
  if (t.task.result?.state === 'fail' && page && process.env.DOHYO_E2E_FAILSHOTS) {
    await page.screenshot({ path: join(process.env.DOHYO_E2E_FAILSHOTS, t.task.name.replace(/\W+/g, '-') + '.png') }).catch(() => undefined);
  }
});

describe('dashboards and apps', () => {
  let overviewURL = '';

  it('installs the CloudTrail app from the catalog page', async () => {
    await page.click('[data-testid=nav-apps]');
    const card = page.locator('[data-testid=app-aws-cloudtrail]');
    await card.waitFor();
    // dohyo demo installs the app itself: uninstall it first, through the page.
    if ((await card.getAttribute('data-installed')) === '1') {
      await card.locator('[data-testid=app-uninstall]').click();
      await page.waitForSelector('[data-testid=app-aws-cloudtrail][data-installed="0"]');
      expect((await api<{ dashboards: unknown[] }>('GET', '/api/v1/dashboards?app=aws-cloudtrail')).dashboards).toHaveLength(0);
    }
    await card.locator('[data-testid=app-param-category]').fill('aws/cloudtrail');
    await card.locator('[data-testid=app-install]').click();
    await page.waitForSelector('[data-testid=app-aws-cloudtrail][data-installed="1"]');
    await expect.poll(() => card.locator('[data-testid=app-dashboard-link]').count()).toBe(6);
    const created = Number((await card.locator('[data-testid=app-report]').textContent())?.match(/(\d+) created/)?.[1]);
    expect(created).toBeGreaterThanOrEqual(6);
    const list = await api<{ dashboards: { title: string; app?: { name: string } }[] }>('GET', '/api/v1/dashboards?app=aws-cloudtrail');
    expect(list.dashboards).toHaveLength(6);
  });

  it('opens a dashboard, every panel runs, and the time range applies to all panels', async () => {
    const card = page.locator('[data-testid=app-aws-cloudtrail]');
    await card.locator('[data-testid=app-dashboard-link]', { hasText: 'Overview' }).click();
    await page.waitForSelector('[data-testid=dashboard-page]');
    await allDrawn();
    overviewURL = page.url();
    const states = await panelStates();
    measured.overviewPanels = states.map((s) => `${s.title}: ${s.state}${s.error ? ' — ' + s.error : ''}`);
    expect(states.length).toBe(6);
    expect(states.filter((s) => s.state === 'error')).toEqual([]);
    expect(states.filter((s) => s.state === 'ok').length).toBeGreaterThan(3);
    // A map panel shows where the demo's addresses are, with the map's credit.
    expect(await page.locator('[data-testid=panel-chart-map]').count()).toBe(1);
    await page.waitForSelector('[data-testid=geo-credit]');

    // Last 7 days: the URL keeps the range, and every panel runs again over it.
    await page.click('[data-testid=time-range]');
    await page.click('.trp-preset:has-text("Last 7 days")');
    await page.waitForURL(/from=-7d/);
    await page.waitForFunction(() => {
      const from = Number(document.querySelector('[data-testid=dash-status]')?.getAttribute('data-from'));
      return from > 0 && Math.abs(Date.now() - 7 * 86_400_000 - from) < 3_600_000;
    });
    await allDrawn();
    expect(new URL(page.url()).searchParams.get('from')).toBe('-7d');
    // Reloading the link shows the same range.
    await page.reload();
    await allDrawn();
    expect(await page.textContent('[data-testid=time-range]')).toMatch(/7 days/);
    overviewURL = page.url();
  });

  it('drills down from a table panel into the search page', async () => {
    const list = await api<{ dashboards: { id: string; title: string }[] }>('GET', '/api/v1/dashboards?app=aws-cloudtrail');
    const ops = list.dashboards.find((d) => /Operations/.test(d.title))!;
    await page.goto(`${server.url}/dashboards/${ops.id}?from=-7d&to=now`);
    await allDrawn();
    const panel = page.locator('[data-testid=dash-panel][data-state=ok]:has(.panel-row)').first();
    const title = await panel.getAttribute('aria-label');
    const firstRow = panel.locator('.panel-row').first();
    const cells = await firstRow.locator('td').allTextContents();
    await firstRow.click();
    await page.waitForURL(/\/search\?/);
    const q = new URL(page.url()).searchParams.get('q') ?? '';
    measured.drillDown = { panel: title, row: cells, query: q };
    expect(q).toMatch(/_sourceCategory=aws\/cloudtrail/);
    expect(q).toMatch(/\| where /);
    // The clicked row's key value is one of the filters.
    expect(cells.some((c) => c.trim() !== '' && q.includes(c.trim()))).toBe(true);
    await page.waitForSelector('.query-editor .cm-content');
    await page.waitForFunction(() => document.querySelector('[data-testid=job-status]')?.textContent?.startsWith('Done'), null, { timeout: 60_000 });
    expect(await page.locator('.vlist-item').count()).toBeGreaterThan(0);
  });

  it('drills down from a bar and from a pie slice', async () => {
    await page.goto(overviewURL);
    await allDrawn();
    // A column chart: click along a line just above the axis until a bar is hit.
    const bars = page.locator('[data-testid=dash-panel]', { hasText: 'Top 10 Users' });
    const bq = await clickChartUntilSearch(bars, (w, h) => [0.15, 0.25, 0.35, 0.45, 0.55, 0.65].flatMap((fx) => [0.68, 0.62].map((fy) => [w * fx, h * fy] as [number, number])));
    expect(bq).toMatch(/\| where user = "[^"]+"/);
    // The range is written as absolute times in the search page's picker.
    expect(await page.textContent('[data-testid=time-range]')).toMatch(/\d{4}-\d\d-\d\dT\d\d:\d\d/);
    measured.drillDownBar = bq.split('\n').slice(-1)[0];
    await page.goBack();
    await allDrawn();
    // A pie: click around the ring.
    const pie = page.locator('[data-testid=dash-panel]', { hasText: 'Created Resources' });
    const pq = await clickChartUntilSearch(pie, (w, h) => {
      const r = (Math.min(w, h) / 2) * 0.44;
      return [0, 1, 2, 3, 4, 5, 6, 7].map((i) => [w / 2 + r * Math.cos((i * Math.PI) / 4), h / 2 + r * Math.sin((i * Math.PI) / 4)] as [number, number]);
    });
    expect(pq).toMatch(/\| where [a-z_]+ = "[^"]+"/);
    measured.drillDownPie = pq.split('\n').slice(-1)[0];
    await page.goBack();
    await allDrawn();
  });

  it('edits a panel of a copy of the dashboard: query, chart type, live preview, save', async () => {
    await page.goto(overviewURL);
    await allDrawn();
    await page.click('button:has-text("Duplicate")');
    await page.waitForFunction((u) => location.href !== u, overviewURL);
    await page.waitForSelector('[data-testid=dashboard-title]:has-text("copy")');
    await allDrawn();
    await page.click('[data-testid=dash-edit]');
    await page.waitForURL(/edit=1/);
    const first = page.locator('[data-testid=dash-panel]').first();
    const id = await first.getAttribute('data-panel-id');
    await first.locator('[data-testid=panel-edit]').click();
    await page.waitForSelector('[data-testid=panel-editor]');
    await page.selectOption('[data-testid=panel-type]', 'table');
    await typeInEditor('[data-testid=panel-query]', `${CT} | json field=_raw "eventSource" as event_source | count by event_source | sort by _count`);
    // The preview runs the edited panel (unsaved) and redraws it.
    const target = page.locator(`[data-testid=dash-panel][data-panel-id=${id}]`);
    await target.locator('th:has-text("event_source")').waitFor({ timeout: 60_000 });
    expect(await target.locator('.panel-row').count()).toBeGreaterThan(1);
    await page.fill('[data-testid=panel-title-input]', 'Events by service');
    await page.click('[data-testid=panel-editor-close]');
    // Keyboard: Shift+→ makes the focused panel wider.
    const before = await target.evaluate((el) => getComputedStyle(el).gridColumnEnd);
    await target.focus();
    await page.keyboard.press('Shift+ArrowRight');
    expect(await target.evaluate((el) => getComputedStyle(el).gridColumnEnd)).not.toBe(before);
    await saveDashboard();
    await page.reload();
    await allDrawn();
    const saved = page.locator(`[data-testid=dash-panel][data-panel-id=${id}]`);
    expect(await saved.getAttribute('aria-label')).toBe('Events by service');
    await saved.locator('th:has-text("event_source")').waitFor();
  });

  it('edits a single-value panel in the UI: description, value field, thresholds; and draws a honeycomb', async () => {
    // The copy saved by the previous test: its first panel is the "Events by service" table.
    await page.click('[data-testid=dash-edit]');
    await page.waitForURL(/edit=1/);
    const first = page.locator('[data-testid=dash-panel]').first();
    const id = await first.getAttribute('data-panel-id');
    await first.locator('[data-testid=panel-edit]').click();
    await page.waitForSelector('[data-testid=panel-editor]');
    await page.selectOption('[data-testid=panel-type]', 'single_value');
    await page.waitForSelector('[data-testid=single-value-settings]');
    await page.fill('[data-testid=panel-description]', 'Events of the least busy service');
    // The value field's choices are the result's columns.
    await expect.poll(() => page.locator('[data-testid=panel-value-field] option[value=_count]').count()).toBe(1);
    await page.selectOption('[data-testid=panel-value-field]', '_count');
    await page.click('[data-testid=threshold-add]');
    await page.click('[data-testid=threshold-add]');
    const ts = page.locator('[data-testid=panel-threshold]');
    expect(await ts.count()).toBe(2);
    await ts.nth(0).locator('[data-testid=threshold-value]').fill('0');
    await ts.nth(0).locator('[data-testid=threshold-label]').fill('quiet');
    await ts.nth(1).locator('[data-testid=threshold-value]').fill('1');
    await ts.nth(1).locator('[data-testid=threshold-color]').selectOption('red');
    await ts.nth(1).locator('[data-testid=threshold-label]').fill('busy');
    const target = page.locator(`[data-testid=dash-panel][data-panel-id=${id}]`);
    // The value (the last row's _count, at least 1) takes the highest threshold it reaches: red, "busy".
    await target.locator('[data-testid=single-value]').waitFor({ timeout: 60_000 });
    await target.locator('.panel-single :text("busy")').waitFor();
    const danger = await page.evaluate(() => {
      const el = document.createElement('span');
      el.style.color = 'var(--danger)';
      document.body.appendChild(el);
      const c = getComputedStyle(el).color;
      el.remove();
      return c;
    });
    expect(await target.locator('[data-testid=single-value]').evaluate((el) => getComputedStyle(el).color)).toBe(danger);
    await page.click('[data-testid=panel-editor-close]');

    // A second panel as a honeycomb: one hexagon per group.
    const second = page.locator('[data-testid=dash-panel]').nth(1);
    const id2 = await second.getAttribute('data-panel-id');
    await second.locator('[data-testid=panel-edit]').click();
    await page.selectOption('[data-testid=panel-type]', 'honeycomb');
    await typeInEditor('[data-testid=panel-query]', `${CT} | json field=_raw "eventSource" as event_source | count by event_source`);
    await page.locator(`[data-testid=dash-panel][data-panel-id=${id2}] [data-testid=panel-chart-honeycomb][data-drawn="1"]`).waitFor({ timeout: 60_000 });
    await page.click('[data-testid=panel-editor-close]');

    await saveDashboard();
    const dashId = new URL(page.url()).pathname.split('/').pop()!;
    const saved = await api<{ panels: { id: string; description?: string; visualization: { type: string; valueField?: string; thresholds?: { value: number; color: string; label?: string }[] } }[] }>('GET', `/api/v1/dashboards/${dashId}`);
    const p = saved.panels.find((x) => x.id === id)!;
    expect(p.description).toBe('Events of the least busy service');
    expect(p.visualization).toMatchObject({ type: 'single_value', valueField: '_count' });
    expect(p.visualization.thresholds).toEqual([
      { value: 0, color: 'green', label: 'quiet' },
      { value: 1, color: 'red', label: 'busy' },
    ]);
    expect(saved.panels.find((x) => x.id === id2)!.visualization.type).toBe('honeycomb');
    await page.reload();
    await allDrawn();
    expect(await page.locator(`[data-testid=dash-panel][data-panel-id=${id}] .panel-title`).getAttribute('title')).toBe('Events of the least busy service');
  });

  it('draws a 12-panel dashboard over 7 days of demo data (timed)', async () => {
    const d = await api<{ id: string }>('POST', '/api/v1/dashboards', twelve);
    const url = `${server.url}/dashboards/${d.id}?from=-7d&to=now`;
    const t0 = Date.now();
    await page.goto(url);
    await allDrawn(180_000);
    const cold = Date.now() - t0;
    const states = await panelStates();
    const serverMs = Number((await page.textContent('[data-testid=dash-status]'))?.match(/in (\d+) ms/)?.[1]);
    const t1 = Date.now();
    await page.reload();
    await allDrawn(180_000);
    const warm = Date.now() - t1;
    measured.twelvePanels = { coldMs: cold, coldServerMs: serverMs, cachedReloadMs: warm, events7d: Number(process.env.DOHYO_E2E_DASH_EVENTS || 300_000) };
    measured.twelvePanelStates = states.map((s) => `${s.title}: ${s.state}${s.error ? ' — ' + s.error : ''}`);
    expect(states).toHaveLength(12);
    expect(states.filter((s) => s.state === 'error')).toEqual([]);
    expect(await page.locator('[data-testid=panel-chart-heatmap]').count()).toBe(1);
    expect(await page.locator('.sparkline').count()).toBe(1);
  });

  it('changes a template variable: the choice is in the URL and the panels run with it', async () => {
    // The page is the 12-panel dashboard, which has a "region" list variable.
    expect(await page.locator('[data-testid=var-region] option').allTextContents()).toEqual(['All', 'us-east-1', 'eu-west-1', 'us-west-2']);
    await page.selectOption('[data-testid=var-region]', 'eu-west-1');
    await page.waitForURL(/var\.region=eu-west-1/);
    await page.waitForFunction(() => JSON.parse(document.querySelector('[data-testid=dash-status]')?.getAttribute('data-vars') || '{}').region === 'eu-west-1');
    await allDrawn();
    const legend = await page.locator('[data-testid=dash-panel]', { hasText: 'CloudTrail events by region' }).getAttribute('data-state');
    expect(['ok', 'empty']).toContain(legend);
  });

  it('exports a dashboard as JSON, imports it back and uploads a Sumo Logic export', async () => {
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid=dash-export]')]);
    const file = join(server.dir, 'export.json');
    await download.saveAs(file);
    const doc = JSON.parse(readFileSync(file, 'utf8'));
    expect(doc.format).toBe('dohyo.dashboards/v1');
    expect(doc.dashboards[0].panels).toHaveLength(12);
    await page.click('[data-testid=nav-dashboards]');
    await page.waitForSelector('[data-testid=dashboards-page]');
    await page.setInputFiles('[data-testid=import-json]', file);
    await page.waitForSelector('[data-testid=dashboards-notice]:has-text("Imported 1 dashboard")');
    await expect.poll(() => page.locator('[data-testid=dashboard-link]', { hasText: 'E2E twelve panels' }).count()).toBe(2);

    await page.setInputFiles('[data-testid=import-sumo]', resolve(__dirname, '../../../sumoimport/testdata/classic-folder.json'));
    const report = page.locator('[data-testid=sumo-report]');
    await report.waitFor();
    const head = (await report.locator('h2').textContent()) ?? '';
    const m = head.match(/(\d+) imported, (\d+) not imported/);
    expect(m).not.toBeNull();
    expect(Number(m![1])).toBeGreaterThan(0);
    measured.sumoImport = head;
    // The imported dashboard opens.
    await report.locator('a').first().click();
    await page.waitForSelector('[data-testid=dashboard-page]');
    await allDrawn();
  });

  it('takes screenshots of the six CloudTrail dashboards', async () => {
    const info = await api<{ installed?: { items: { kind: string; key: string; id: string }[] } }>('GET', '/api/v1/apps/aws-cloudtrail');
    const dashes = (info.installed?.items ?? []).filter((i) => i.kind === 'dashboard');
    expect(dashes).toHaveLength(6);
    // The first test reinstalled the app, whose admin_users table starts empty: list the demo's
    // administrators in it, as `dohyo demo` does (cmd/dohyo/demoapps.go), so that User Monitoring's
    // administrator panels have data.
    const lookups = await api<{ lookups: { id: string; name: string; rowCount: number }[] }>('GET', '/api/v1/lookups');
    const admins = lookups.lookups.find((l) => l.name === '/Library/Admin Recommended/cloudtrail/admin_users');
    expect(admins).toBeDefined();
    if (admins!.rowCount === 0) {
      const res = await fetch(`${server.url}/api/v1/lookups/${encodeURIComponent(admins!.id)}/csv?merge=false`, {
        method: 'PUT',
        headers: { Authorization: basic(server), 'Content-Type': 'text/csv', Accept: 'application/json' },
        body: 'admin_user\nalice.nguyen\nalice.nguyen@dohyo-demo.com\ndave.okafor\n',
      });
      expect(res.status).toBe(200);
    }
    const errors: string[] = [];
    for (const dsh of dashes) {
      await page.goto(`${server.url}/dashboards/${dsh.id}?from=-7d&to=now`);
      await allDrawn(180_000);
      for (const s of await panelStates()) if (s.state === 'error') errors.push(`${dsh.key} / ${s.title}: ${s.error}`);
      if (shots) {
        mkdirSync(shots, { recursive: true });
        // The page scrolls inside the app shell: grow the window to the whole dashboard.
        const height = await page.evaluate(() => {
          const el = document.querySelector('.page')!;
          return el.scrollHeight + el.getBoundingClientRect().top + 8;
        });
        await page.setViewportSize({ width: 1440, height: Math.max(900, Math.ceil(height)) });
        await page.waitForTimeout(400);
        await page.screenshot({ path: join(shots, `dashboard-${dsh.key}.png`) });
        await page.setViewportSize({ width: 1440, height: 900 });
      }
    }
    expect(errors).toEqual([]);
  });

  it('stays free of script errors and Content-Security-Policy violations', () => {
    expect(pageErrors).toEqual([]);
  });
});
