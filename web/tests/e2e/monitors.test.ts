// Browser tests of the monitors page against a real dohyo (`dohyo demo`,
// the server's code) with real data:
//
//   make build && cd web && npx vitest run --config vitest.e2e.config.ts tests/e2e/monitors.test.ts
//
// A notification target pointing at a local webhook receiver is created and
// tested through the UI; a monitor whose condition the ingested events meet
// is created through the UI (the server's validation errors shown at their
// fields first), fires — in the list, its firing groups and its history — and
// notifies the receiver; it is muted and edited. Group values carrying HTML
// stay text. The CloudTrail app's detections are enabled with one click, and
// a threat list is uploaded and deleted.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server as HTTPServer } from 'node:http';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { ADMIN_PASSWORD, countMatches, createSource, launchBrowser, send, startServer, stopServer, waitFor, type Server } from './harness';

const shots = process.env.DOHYO_SCREENSHOTS ? resolve(__dirname, '../../../docs') : '';

let server: Server;
let browser: Browser;
let page: Page;
let hook: HTTPServer;
let hookURL = '';
const received: { kind?: string; group?: Record<string, string>; monitor?: { name?: string } }[] = [];
const pageErrors: string[] = [];
const marker = 'mon' + Math.random().toString(36).slice(2, 8);
const HOSTILE = '<img src=x onerror=window.__monxss=1>';
const category = 'e2e/monitors';
const monitorName = `Failed logins ${marker}`;
let monitorId = '';

function basic(s: Server) {
  return 'Basic ' + Buffer.from(`${s.accessId}:${s.accessKey}`).toString('base64');
}

async function apiGet<T>(path: string): Promise<T> {
  const res = await fetch(server.url + path, { headers: { Authorization: basic(server) } });
  if (!res.ok) throw new Error(`GET ${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

async function apiPost<T>(path: string, body: unknown): Promise<T> {
  const res = await fetch(server.url + path, { method: 'POST', headers: { Authorization: basic(server), 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  if (!res.ok) throw new Error(`POST ${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

async function shot(name: string) {
  if (!shots) return;
  mkdirSync(shots, { recursive: true });
  await page.screenshot({ path: join(shots, name) });
}

interface MonitorView {
  id: string;
  name: string;
  app?: string;
  enabled: boolean;
  muted: boolean;
  status: { state: string; firing: number };
}

beforeAll(async () => {
  hook = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      try {
        received.push(JSON.parse(body));
      } catch {
        received.push({ kind: 'unparsed' });
      }
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
  const addr = hook.address();
  hookURL = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}/hook`;

  server = await startServer(Number(process.env.DOHYO_E2E_EVENTS || 20_000));
  const receiver = await createSource(server, 'e2e-monitors', category);
  // Events four minutes old: inside the first window the monitor evaluates
  // (the latest complete one, its delay past), so it fires at once.
  const at = new Date(Date.now() - 4 * 60_000).toISOString();
  const line = (user: string) => `${at} ${marker} console login failed user=${user}; from 203.0.113.9`;
  await send(receiver, [line('alice'), line('alice'), line('alice'), line(HOSTILE), line(HOSTILE), line('carol')]);
  await waitFor(async () => (await countMatches(server, marker, Date.now() - 3_600_000)) >= 6, 60_000, 'the events to be searchable');

  browser = await launchBrowser();
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 860 }, timezoneId: 'UTC' });
  page = await ctx.newPage();
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.on('dialog', (d) => void d.accept());
  await page.goto(server.url + '/');
  await page.fill('input[name=username]', 'admin');
  await page.fill('input[name=password]', ADMIN_PASSWORD);
  await page.click('button[type=submit]');
  await page.waitForSelector('[data-testid=nav-monitors]');
}, 600_000);

afterAll(async () => {
  await browser?.close();
  await stopServer(server);
  await new Promise((r) => hook?.close(r));
});

describe('monitors page', () => {
  it('creates a webhook target and sends a test', async () => {
    await page.click('[data-testid=nav-monitors]');
    await page.waitForSelector('[data-testid=monitors-page]');
    await page.click('[data-testid=tab-targets]');
    await page.click('[data-testid=target-new]');
    await page.fill('[data-testid=target-name]', 'e2e-hook');
    // A bad URL: the server's problem shows at the URL field.
    await page.fill('[data-testid=target-url]', 'ftp://nowhere');
    await page.click('[data-testid=target-save]');
    const urlError = page.locator('label:has([data-testid=target-url]) [data-testid=field-error]');
    await urlError.waitFor();
    expect(await urlError.textContent()).toContain('not an http(s) URL');
    await page.fill('[data-testid=target-url]', hookURL);
    await page.click('[data-testid=target-save]');
    // (The demo may have made targets of its own: use the row of ours.)
    const row = page.locator('[data-testid=target-row]', { hasText: 'e2e-hook' });
    await row.waitFor();
    await row.locator('[data-testid=target-test]').click();
    await page.waitForFunction(
      () => [...document.querySelectorAll('[data-testid=target-row]')].some((r) => r.textContent?.includes('e2e-hook') && /Delivered \(HTTP 204\)/.test(r.textContent)),
      null,
      { timeout: 30_000 },
    );
    expect(received.some((p) => p.kind === 'test')).toBe(true);
    await shot('monitor-targets.png');
  });

  it("creates a monitor through the form; the server's validation errors show at their fields", async () => {
    await page.click('[data-testid=tab-monitors]');
    await page.click('[data-testid=new-monitor]');
    await page.waitForSelector('[data-testid=monitor-form] .query-editor .cm-content');
    await page.fill('[data-testid=monitor-name]', monitorName);
    await page.focus('[data-testid=monitor-form] .query-editor .cm-content');
    // A misspelt operator first: the server's problem is underlined in the editor and shown under it.
    await page.keyboard.insertText(`_sourceCategory=${category} ${marker} | parse "user=*;" as user | cout by user`);
    await page.fill('[data-testid=monitor-window]', '15m');
    await page.fill('[data-testid=monitor-frequency]', '1m');
    await page.fill('[data-testid=monitor-delay]', '1m');
    await page.fill('[data-testid=monitor-groupby]', 'nosuchfield');
    await page.selectOption('[data-testid=cond-critical-subject]', 'field');
    await page.fill('[data-testid=cond-critical-field]', '_count');
    await page.selectOption('[data-testid=cond-critical-op]', '>=');
    await page.fill('[data-testid=cond-critical-threshold]', '2');
    await page.click('[data-testid=notify-add]');
    await page.selectOption('[data-testid=notify-target]', { label: 'e2e-hook (webhook)' });
    await page.click('[data-testid=monitor-save]');
    const queryError = page.locator('[data-testid=monitor-form] .mon-field:has(.query-editor) [data-testid=field-error]');
    await queryError.waitFor();
    expect(await queryError.textContent()).toContain('did you mean "count"');
    await page.waitForSelector('[data-testid=monitor-form] .cm-lintRange-error');
    await page.focus('[data-testid=monitor-form] .query-editor .cm-content');
    await page.keyboard.press('Control+A');
    await page.keyboard.press('Delete');
    await page.keyboard.insertText(`_sourceCategory=${category} ${marker} | parse "user=*;" as user | count by user`);
    await page.waitForFunction(() => !document.querySelector('[data-testid=monitor-form] .cm-lintRange-error'), null, { timeout: 10_000 });
    await page.click('[data-testid=monitor-save]');
    const groupError = page.locator('label:has([data-testid=monitor-groupby]) [data-testid=field-error]');
    await groupError.waitFor();
    expect(await groupError.textContent()).toContain('nosuchfield');
    await shot('monitor-form.png');
    expect(new URL(page.url()).pathname).toBe('/monitors/new');

    await page.fill('[data-testid=monitor-groupby]', 'user');
    await page.click('[data-testid=monitor-save]');
    await page.waitForSelector('[data-testid=monitor-detail]');
    monitorId = decodeURIComponent(new URL(page.url()).pathname.split('/')[2]);
    expect(monitorId).not.toBe('');
    expect(await page.textContent('[data-testid=monitor-title]')).toBe(monitorName);
  });

  it('fires: state, firing groups (as text), history with a search link, notification', async () => {
    // The first window is due at once; the scheduler looks every second.
    await page.waitForSelector('[data-testid=monitor-detail] [data-testid=monitor-state][data-state=critical]', { timeout: 90_000 });
    await page.waitForSelector('[data-testid=firing-groups]');
    const groups = (await page.textContent('[data-testid=firing-groups]')) ?? '';
    expect(groups).toContain('user=alice');
    expect(groups).toContain('user=' + HOSTILE);
    expect(groups).not.toContain('user=carol');
    // The hostile group value is text: no element was made of it, nothing ran.
    expect(await page.locator('[data-testid=firing-groups] img').count()).toBe(0);
    expect(await page.evaluate(() => (window as unknown as { __monxss?: number }).__monxss)).toBeUndefined();

    await page.waitForSelector('[data-testid=monitor-history] tr[data-kind=fired]');
    const fired = page.locator('[data-testid=monitor-history] tr[data-kind=fired]', { hasText: 'user=alice' });
    expect(await fired.count()).toBe(1);
    expect(await fired.locator('td.num').textContent()).toBe('3');
    const href = (await fired.locator('[data-testid=history-search]').getAttribute('href')) ?? '';
    const link = new URL(href, server.url);
    expect(link.pathname).toBe('/search');
    expect(link.searchParams.get('q')).toContain(marker);
    const from = Number(link.searchParams.get('from'));
    const to = Number(link.searchParams.get('to'));
    expect(to - from).toBe(15 * 60_000);
    expect(from).toBeLessThanOrEqual(Date.now() - 4 * 60_000);

    // The webhook got the alerts, and the delivery log says so.
    await waitFor(async () => received.filter((p) => p.kind === 'fired' && p.monitor?.name === monitorName).length >= 2, 60_000, 'the fired notifications');
    const users = received.filter((p) => p.kind === 'fired' && p.monitor?.name === monitorName).map((p) => p.group?.user);
    expect(users.sort()).toEqual([HOSTILE, 'alice'].sort());
    await page.waitForSelector('[data-testid=delivery-log] tbody tr', { timeout: 30_000 });
    expect(await page.textContent('[data-testid=delivery-log]')).toContain('OK');
    await shot('monitor-detail.png');
    if (shots) {
      await page.click('[data-testid=theme-toggle]');
      // The lower half: history and delivery log.
      await page.evaluate(() => document.querySelector('.mon-body')?.scrollTo(0, 1e6));
      await shot('monitor-detail-dark.png');
      await page.evaluate(() => document.querySelector('.mon-body')?.scrollTo(0, 0));
      await page.click('[data-testid=theme-toggle]');
    }
  });

  it('shows the monitor firing in the list, with its groups', async () => {
    await page.click('[data-testid=tab-monitors]');
    const row = page.locator(`[data-testid=monitor-row][data-id="${monitorId}"]`);
    await row.waitFor();
    expect(await row.locator('[data-testid=monitor-state]').getAttribute('data-state')).toBe('critical');
    expect(await row.locator('[data-testid=firing-count]').textContent()).toBe('2 groups');
    await row.locator('[data-testid=firing-count]').click();
    await page.waitForSelector('[data-testid=monitor-list] [data-testid=firing-groups] li');
    expect(await page.locator('[data-testid=monitor-list] [data-testid=firing-groups] li').count()).toBe(2);
    expect(await page.textContent('[data-testid=monitor-list] [data-testid=firing-groups]')).toContain('user=alice');
    await shot('monitors.png');
  });

  it('mutes the monitor for an hour', async () => {
    const row = page.locator(`[data-testid=monitor-row][data-id="${monitorId}"]`);
    await row.locator('[data-testid=mute]').selectOption('1h');
    await page.waitForSelector(`[data-testid=monitor-row][data-id="${monitorId}"] [data-testid=monitor-state][data-state=muted]`);
    const m = await apiGet<MonitorView & { mutedUntil: string }>(`/api/v1/monitors/${monitorId}`);
    expect(m.muted).toBe(true);
    const left = Date.parse(m.mutedUntil) - Date.now();
    expect(left).toBeGreaterThan(55 * 60_000);
    expect(left).toBeLessThanOrEqual(60 * 60_000);
    // Still firing underneath.
    expect(m.status.state).toBe('critical');
  });

  it('edits the monitor', async () => {
    await page.click(`[data-testid=monitor-row][data-id="${monitorId}"] [data-testid=monitor-link]`);
    await page.click('[data-testid=edit-monitor]');
    await page.waitForSelector('[data-testid=monitor-form] .query-editor .cm-content');
    expect(await page.inputValue('[data-testid=monitor-groupby]')).toBe('user');
    expect(await page.inputValue('[data-testid=cond-critical-threshold]')).toBe('2');
    expect(await page.textContent('[data-testid=monitor-form] .query-editor .cm-content')).toContain(marker);
    await page.fill('[data-testid=monitor-name]', monitorName + ' (edited)');
    await page.check('[data-testid=cond-warning-on]');
    await page.fill('[data-testid=cond-warning-threshold]', '1');
    await page.click('[data-testid=monitor-save]');
    await page.waitForSelector('[data-testid=monitor-detail]');
    await page.waitForFunction((n) => document.querySelector('[data-testid=monitor-title]')?.textContent === n, monitorName + ' (edited)');
    const m = await apiGet<MonitorView & { triggers: { warning?: { op: string; threshold: number } }; version: number }>(`/api/v1/monitors/${monitorId}`);
    expect(m.name).toBe(monitorName + ' (edited)');
    expect(m.triggers.warning).toEqual({ op: '>', threshold: 1 });
    expect(m.muted).toBe(true);
    // The history records the change.
    await page.waitForSelector('[data-testid=monitor-history] tr[data-kind=updated]', { timeout: 10_000 });
    // Unmuting shows the alert state again.
    await page.click('[data-testid=monitor-detail] [data-testid=unmute]');
    await page.waitForSelector('[data-testid=monitor-detail] .mon-head [data-testid=monitor-state][data-state=critical]', { timeout: 10_000 });
    expect((await apiGet<MonitorView>(`/api/v1/monitors/${monitorId}`)).muted).toBe(false);
  });

  it("enables every detection of the CloudTrail app with one click", async () => {
    // The demo installs the app; its monitors ship disabled.
    await waitFor(async () => (await apiGet<{ monitors: MonitorView[] }>('/api/v1/monitors?app=aws-cloudtrail')).monitors.length > 0, 120_000, 'the CloudTrail app monitors');
    await apiPost('/api/v1/monitors/enable-app', { app: 'aws-cloudtrail', enabled: false });
    const n = (await apiGet<{ monitors: MonitorView[] }>('/api/v1/monitors?app=aws-cloudtrail')).monitors.length;
    await page.click('[data-testid=tab-monitors]');
    await page.waitForSelector('[data-testid=monitor-row]');
    await page.selectOption('[data-testid=app-filter]', 'aws-cloudtrail');
    const button = page.locator('[data-testid=enable-app]');
    await page.waitForFunction(() => !(document.querySelector('[data-testid=enable-app]') as HTMLButtonElement | null)?.disabled, null, { timeout: 15_000 });
    expect(await button.textContent()).toBe(`Enable all ${n} detections of AWS CloudTrail`);
    expect(await page.locator('[data-testid=monitor-row]').count()).toBe(n);
    await button.click();
    await page.waitForSelector('[data-testid=list-note]');
    await waitFor(async () => (await apiGet<{ monitors: MonitorView[] }>('/api/v1/monitors?app=aws-cloudtrail')).monitors.every((m) => m.enabled), 15_000, 'every CloudTrail monitor enabled');
    await page.waitForFunction(() => [...document.querySelectorAll('[data-testid=monitor-row] [data-testid=monitor-state]')].every((e) => e.getAttribute('data-state') !== 'disabled'), null, { timeout: 15_000 });
    expect(await button.isDisabled()).toBe(true);
  });

  it('uploads a threat list and deletes it', async () => {
    await page.click('[data-testid=tab-threats]');
    await page.waitForSelector('[data-testid=threat-lists]');
    await page.fill('[data-testid=threat-name]', 'e2e-feed');
    await page.setInputFiles('[data-testid=threat-file]', {
      name: 'feed.csv',
      mimeType: 'text/csv',
      buffer: Buffer.from('indicator,actor,malicious_confidence\n203.0.113.9,<b>Evil Actor</b>,high\n198.51.100.0/24,,medium\n'),
    });
    await page.click('[data-testid=threat-upload]');
    await page.waitForSelector('[data-testid=threat-result]');
    expect(await page.textContent('[data-testid=threat-result]')).toContain('2 indicators');
    const row = page.locator('[data-testid=threat-row]', { hasText: 'e2e-feed' });
    await row.waitFor();
    expect(await row.locator('td.num').textContent()).toBe('2');
    // A bad file: the server says what and where.
    await page.fill('[data-testid=threat-name]', 'e2e-bad');
    await page.setInputFiles('[data-testid=threat-file]', { name: 'bad.csv', mimeType: 'text/csv', buffer: Buffer.from('indicator\nnot-an-address!\n') });
    await page.click('[data-testid=threat-upload]');
    const err = page.locator('label:has([data-testid=threat-file]) [data-testid=field-error]');
    await err.waitFor();
    expect(await err.textContent()).toMatch(/line 2/);
    await row.locator('[data-testid=threat-delete]').click();
    await page.waitForFunction(() => ![...document.querySelectorAll('[data-testid=threat-row]')].some((r) => r.textContent?.includes('e2e-feed')));
    expect(pageErrors).toEqual([]);
  });
});
