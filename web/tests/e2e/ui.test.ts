// Browser tests of the web app against a real dohyo with real data.
//
//   make build && cd web && npm run e2e
//
// DOHYO_SCREENSHOTS=1 also writes the screenshots in docs/ (light and
// dark). The time from pressing Ctrl+Enter to the first page of messages is
// measured and written to tests/e2e/last-run.json (reported, not asserted).

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { writeFileSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { ADMIN_PASSWORD, countMatches, createSource, explainOK, launchBrowser, send, startServer, stopServer, waitFor, type Server } from './harness';

const shots = process.env.DOHYO_SCREENSHOTS ? resolve(__dirname, '../../../docs') : '';

let server: Server;
let browser: Browser;
let ctx: BrowserContext;
let page: Page;
let receiver = '';
const violations: string[] = [];
const pageErrors: string[] = [];
const marker = 'e2e' + Math.random().toString(36).slice(2, 8);
const measured: Record<string, number | string> = {};

// Hostile log lines: they must show as text and do nothing.
const LONG = 'A'.repeat(200_000);
const hostile = [
  `${marker} xss <script>window.__xss = 1</script> end`,
  `${marker} img <img src=x onerror="window.__xss = 2"> end`,
  `${marker} link <a href="javascript:window.__xss=3">click me</a> end`,
  `${marker} ansi \x1b[31mRED\x1b[0m \x1b]0;title\x07 bell\x07 end`,
  `${marker} bidi \u202eevil\u202c end`,
  `${marker} json {"user":"<b>bold</b>","nested":{"k":"<svg onload=window.__xss=4>"}}`,
  `${marker} long ${LONG} end`,
];

async function shot(name: string) {
  if (!shots) return;
  mkdirSync(shots, { recursive: true });
  await page.screenshot({ path: join(shots, name) });
}

async function typeQuery(q: string) {
  await page.focus('.query-editor .cm-content');
  await page.keyboard.press('Control+A');
  await page.keyboard.press('Delete');
  await page.keyboard.insertText(q);
}

async function setRange(from: string) {
  const url = new URL(page.url());
  url.searchParams.set('from', from);
  url.searchParams.set('to', 'now');
  url.searchParams.delete('q');
  await page.goto(url.toString());
  await page.waitForSelector('.query-editor .cm-content');
}

/** allMessagesText scrolls through the (virtualised) message list and returns the text of every message. */
async function allMessagesText(): Promise<string> {
  const seen = new Map<string, string>();
  for (let i = 0; i < 50; i++) {
    const batch = await page.evaluate(() =>
      [...document.querySelectorAll('.vlist-item')].map((el) => [(el as HTMLElement).dataset.index ?? '', el.textContent ?? ''] as [string, string]),
    );
    for (const [k, v] of batch) if (!v.includes('loading')) seen.set(k, v);
    const atEnd = await page.evaluate(() => {
      const el = document.querySelector('.vlist')!;
      const end = el.scrollTop + el.clientHeight >= el.scrollHeight - 2;
      el.scrollTop += el.clientHeight * 0.8;
      return end;
    });
    if (atEnd) break;
    await page.waitForTimeout(150);
  }
  await page.evaluate(() => (document.querySelector('.vlist')!.scrollTop = 0));
  return [...seen.entries()].sort((a, b) => Number(a[0]) - Number(b[0])).map((e) => e[1]).join('\n');
}

async function runAndWaitDone() {
  await page.keyboard.press('Control+Enter');
  await page.waitForFunction(() => document.querySelector('[data-testid=job-status]')?.textContent?.startsWith('Done'), null, { timeout: 60_000 });
}

beforeAll(async () => {
  server = await startServer(Number(process.env.DOHYO_E2E_EVENTS || 200_000));
  receiver = await createSource(server, 'e2e-hostile', 'e2e/hostile');
  await send(receiver, hostile);
  await waitFor(async () => (await countMatches(server, marker, Date.now() - 3_600_000)) >= hostile.length, 60_000, 'the hostile events to be searchable');
  browser = await launchBrowser();
  ctx = await browser.newContext({ viewport: { width: 1280, height: 800 }, timezoneId: 'UTC' });
  await ctx.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      (window as unknown as { __csp: string[] }).__csp = [...((window as unknown as { __csp?: string[] }).__csp ?? []), `${e.violatedDirective} ${e.sourceFile}:${e.lineNumber}`];
    });
  });
  page = await ctx.newPage();
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.on('crash', () => pageErrors.push('the page crashed'));
  page.on('console', (m) => {
    if (m.type() === 'error' && /Content Security Policy/.test(m.text())) violations.push(m.text());
  });
}, 600_000);

afterAll(async () => {
  await browser?.close();
  await stopServer(server);
  writeFileSync(resolve(__dirname, 'last-run.json'), JSON.stringify(measured, null, 2) + '\n');
  console.log('measured:', measured);
});

afterEach(async (t) => {
  // A failed test leaves a screenshot of the page behind.
  if (t.task.result?.state === 'fail' && page && process.env.DOHYO_E2E_FAILSHOTS) {
    await page.screenshot({ path: join(process.env.DOHYO_E2E_FAILSHOTS, t.task.name.replace(/\W+/g, '-') + '.png') }).catch(() => undefined);
  }
});

describe('dohyo web app', () => {
  it('sends the security headers', async () => {
    const res = await fetch(server.url + '/search?q=x');
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).toContain("frame-ancestors 'none'");
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    expect(res.headers.get('referrer-policy')).toBeTruthy();
    const html = await res.text();
    expect(html).not.toMatch(/<script(?![^>]*\ssrc=)[^>]*>/); // no inline scripts
  });

  it('logs in', async () => {
    await page.goto(server.url + '/');
    await page.fill('input[name=username]', 'admin');
    await page.fill('input[name=password]', 'not-the-password');
    await page.click('button[type=submit]');
    await page.waitForSelector('[data-testid=login-error]');
    await shot('login.png');
    await page.fill('input[name=password]', ADMIN_PASSWORD);
    await page.click('button[type=submit]');
    await page.waitForSelector('.query-editor .cm-content');
    expect(await page.textContent('[data-testid=user-name]')).toBe('admin');
    const cookies = await ctx.cookies();
    const sess = cookies.find((c) => c.name === 'dohyo_session');
    expect(sess?.httpOnly).toBe(true);
    expect(sess?.sameSite).toBe('Strict');
  });

  it('runs a keyword search over the last 24 hours: histogram and messages', async () => {
    await setRange('-24h');
    await typeQuery('error');
    const t0 = Date.now();
    await page.keyboard.press('Control+Enter');
    await page.waitForSelector('[data-testid=message] .msg-time', { timeout: 30_000 });
    measured.firstPageMs = Date.now() - t0;
    await page.waitForFunction(() => document.querySelector('[data-testid=job-status]')?.textContent?.startsWith('Done'), null, { timeout: 60_000 });
    measured.doneMs = Date.now() - t0;
    measured.firstPageInAppMs = Number((await page.textContent('[data-testid=first-page-ms]'))?.replace(/\D+/g, '') || -1);
    expect(await page.locator('[data-testid=histogram] canvas').count()).toBeGreaterThan(0);
    const status = (await page.textContent('[data-testid=job-status]')) ?? '';
    measured.errorMessages24h = status.replace(/.*Done\s*/, '').replace(/ messages.*/, '');
    // The URL holds the search.
    const url = new URL(page.url());
    expect(url.searchParams.get('q')).toBe('error');
    expect(url.searchParams.get('from')).toBe('-24h');
    // Search terms are highlighted (the terms come with the job's parsed
    // query, which may arrive after the first page is drawn: wait for them).
    await page.waitForSelector('[data-testid=message] mark.hit', { timeout: 15_000 });
    expect(await page.locator('[data-testid=message] mark.hit').count()).toBeGreaterThan(0);
    // Virtualised: far fewer message elements than messages.
    const rendered = await page.locator('[data-testid=message]').count();
    expect(rendered).toBeLessThan(200);
    await page.waitForSelector('[data-testid=field-name]');
    await shot('search-light.png');
  });

  it('zooms into a time range by dragging across the histogram', async () => {
    const box = (await page.locator('[data-testid=histogram]').boundingBox())!;
    const y = box.y + box.height / 2;
    await page.mouse.move(box.x + box.width * 0.5, y);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.7, y, { steps: 5 });
    await page.mouse.up();
    await page.waitForURL(/from=\d{4}-\d{2}-\d{2}T/);
    const url = new URL(page.url());
    expect(url.searchParams.get('to')).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}/);
    expect(await page.textContent('[data-testid=time-range]')).toContain('→');
    await page.waitForFunction(() => document.querySelector('[data-testid=job-status]')?.textContent?.startsWith('Done'), null, { timeout: 60_000 });
    await setRange('-24h');
  });

  it('scrolls deep into a large result', async () => {
    await typeQuery('*');
    await page.keyboard.press('Control+Enter');
    await page.waitForSelector('[data-testid=message] .msg-time', { timeout: 30_000 });
    await page.waitForFunction(() => document.querySelector('[data-testid=job-status]')?.textContent?.startsWith('Done') || document.querySelector('[data-testid=job-status]')?.textContent?.startsWith('Stopped'), null, { timeout: 120_000 });
    const t0 = Date.now();
    await page.evaluate(() => {
      const el = document.querySelector('.vlist')!;
      el.scrollTop = el.scrollHeight / 2;
    });
    await page.waitForFunction(() => [...document.querySelectorAll('[data-testid=message] .msg-time')].length > 3, null, { timeout: 20_000 });
    measured.deepScrollMs = Date.now() - t0;
    const total = await page.textContent('[data-testid=tab-messages]');
    measured.allMessagesTab = total ?? '';
  });

  it('adds a filter by clicking a field value', async () => {
    await typeQuery('error');
    await runAndWaitDone();
    await page.waitForSelector('[data-testid=field-name]');
    const host = page.locator('[data-testid=field-name]', { hasText: '_sourcehost' });
    await host.click();
    const value = page.locator('[data-testid=field-value]').first();
    const text = (await value.locator('.fb-value-text').textContent()) ?? '';
    await value.click();
    await page.waitForURL(/_sourcehost/i);
    await page.waitForFunction(() => document.querySelector('[data-testid=job-status]')?.textContent?.startsWith('Done'), null, { timeout: 60_000 });
    const q = new URL(page.url()).searchParams.get('q') ?? '';
    expect(q.toLowerCase()).toContain(`_sourcehost=${text}`.toLowerCase());
    await page.waitForSelector('[data-testid=message] .chip');
    const hosts = await page.locator('[data-testid=message] .chip').allTextContents();
    expect(hosts).toContain(text);
  });

  it('shows an aggregate as a chart, switchable', async () => {
    const timeslice = await explainOK(server, '* | timeslice 1h | count by _timeslice');
    await typeQuery(timeslice ? '* | timeslice 1h | count by _timeslice, _sourceCategory' : '* | count by _sourceCategory');
    await runAndWaitDone();
    await page.waitForSelector('[data-testid=aggregates]');
    await page.waitForSelector(`[data-testid=chart-${timeslice ? 'line' : 'column'}] canvas`);
    expect(await page.locator('[data-testid=result-table] tbody tr').count()).toBeGreaterThan(0);
    await shot('aggregates-light.png');
    await page.click('[data-testid=chart-type-pie]');
    await page.waitForSelector('[data-testid=chart-pie] canvas');
    await page.click('[data-testid=chart-type-table]');
    expect(await page.locator('[data-testid=result-table]').count()).toBe(1);
    // Sorting by a column.
    await page.click('.th-sort >> nth=-1');
    const first = await page.locator('[data-testid=result-table] tbody tr >> nth=0 >> td >> nth=-1').textContent();
    const second = await page.locator('[data-testid=result-table] tbody tr >> nth=1 >> td >> nth=-1').textContent();
    if (second !== null) expect(Number(first)).toBeGreaterThanOrEqual(Number(second));
  });

  it('opens a LogReduce signature', async () => {
    if (!(await explainOK(server, '* | logreduce'))) {
      console.log('skipped: the logreduce operator does not exist yet');
      return;
    }
    await typeQuery('error | logreduce');
    await runAndWaitDone();
    await page.click('[data-testid=tab-logreduce]');
    await page.locator('[data-testid=signature]').first().click();
    await page.waitForSelector('[data-testid=message] .msg-time', { timeout: 30_000 });
  });

  it('keeps hostile log content inert', async () => {
    await typeQuery(marker);
    await runAndWaitDone();
    expect(await page.textContent('[data-testid=tab-messages]')).toContain(`(${hostile.length})`);
    await page.waitForSelector('[data-testid=message] .msg-time');
    const text = await allMessagesText();
    expect(text).toContain('<script>window.__xss = 1</script>');
    expect(text).toContain('<img src=x onerror="window.__xss = 2">');
    expect(text).not.toContain('\x1b');
    expect(text).toContain('RED');
    expect(await page.evaluate(() => (window as unknown as { __xss?: number }).__xss)).toBeUndefined();
    expect(await page.locator('.messages img, .messages script, .messages svg, .messages a[href]').count()).toBe(0);
    // The 200,000-character line is cut, with a way to see all of it, and
    // does not widen the page.
    expect(await page.locator('.messages .more').count()).toBeGreaterThan(0);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await page.locator('.messages .more').first().click();
    await page.waitForTimeout(300);
    expect(await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth)).toBeLessThanOrEqual(0);
    // JSON is pretty-printed, its strings still text.
    expect(await page.locator('.messages .j-key').count()).toBe(0); // the marker prefix makes it not JSON
    expect(await page.evaluate(() => (window as unknown as { __xss?: number }).__xss)).toBeUndefined();
  });

  it('shows the surrounding messages', async () => {
    await page.locator('[data-testid=show-context]').first().click();
    await page.waitForSelector('[data-testid=context-dialog] .ctx-line.anchor');
    expect(await page.locator('[data-testid=context-dialog] .ctx-line').count()).toBeGreaterThan(1);
    await page.keyboard.press('Escape');
    await page.waitForSelector('[data-testid=context-dialog]', { state: 'detached' });
  });

  it('live tail sees a new event within seconds', async () => {
    const tailMarker = 'tail' + marker;
    await typeQuery(tailMarker);
    await page.click('[data-testid=tab-tail]');
    await page.waitForFunction(() => document.querySelector('[data-testid=tail-status]')?.textContent === 'Live', null, { timeout: 20_000 });
    const t0 = Date.now();
    await send(receiver, [`${tailMarker} a new event <b>not bold</b>`]);
    await page.waitForSelector('[data-testid=live-tail] [data-testid=message]', { timeout: 20_000 });
    measured.tailLatencyMs = Date.now() - t0;
    expect(await page.locator('[data-testid=live-tail] [data-testid=message-text]').first().textContent()).toContain('<b>not bold</b>');
    expect(await page.locator('[data-testid=tail-rate]').textContent()).toMatch(/messages\/s/);
    await page.click('[data-testid=tail-pause]');
    await page.waitForSelector('[data-testid=tail-resume]');
    await page.click('[data-testid=tail-resume]');
    await page.click('[data-testid=tab-messages]');
  });

  it('saves a search and lists it with the recent ones', async () => {
    await typeQuery('error');
    await runAndWaitDone();
    await page.click('[data-testid=save]');
    await page.waitForSelector('[data-testid=save-name]');
    // Once the dialog has settled (its effects run after a paint), the
    // name field has the focus: typing goes there, and Enter saves.
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(() => setTimeout(r, 50)))));
    expect(await page.evaluate(() => document.activeElement?.getAttribute('data-testid'))).toBe('save-name');
    await page.fill('[data-testid=save-name]', 'e2e errors');
    await page.keyboard.press('Enter');
    await page.waitForSelector('[data-testid=save-name]', { state: 'detached' });
    await page.click('[data-testid=open-library]');
    await page.waitForSelector('[data-testid=saved-search]');
    // dohyo demo installs the CloudTrail app, whose saved searches are listed too.
    expect(await page.locator('[data-testid=saved-search]', { hasText: 'e2e errors' }).count()).toBe(1);
    expect(await page.locator('[data-testid=recent-search]').count()).toBeGreaterThan(0);
    await page.keyboard.press('Escape');
  });

  it('underlines a query error at its position', async () => {
    await typeQuery('error | cout by _sourceHost');
    await page.waitForSelector('.cm-lintRange-error', { timeout: 10_000 });
    expect(await page.textContent('[data-testid=query-problem]')).toMatch(/column 9/);
  });

  it('has a dark theme', async () => {
    await typeQuery('error');
    await runAndWaitDone();
    await page.click('[data-testid=theme-toggle]');
    await page.waitForFunction(() => document.documentElement.dataset.theme === 'dark');
    await page.waitForTimeout(300);
    await shot('search-dark.png');
    const timeslice = await explainOK(server, '* | timeslice 1h | count by _timeslice');
    await typeQuery(timeslice ? '* | timeslice 1h | count by _timeslice, _sourceCategory' : '* | count by _sourceCategory');
    await runAndWaitDone();
    await page.waitForSelector('[data-testid=aggregates] canvas');
    await page.waitForTimeout(300);
    await shot('aggregates-dark.png');
    await page.click('[data-testid=theme-toggle]');
  });

  it('logs out', async () => {
    await page.click('[data-testid=logout]');
    await page.waitForSelector('[data-testid=login-form]');
    const res = await page.evaluate(async () => (await fetch('/api/v1/me', { headers: { 'X-Dohyo-UI': '1' } })).status);
    expect(res).toBe(401);
  });

  it('raised no Content-Security-Policy violation and no script error', async () => {
    expect(violations).toEqual([]);
    expect(pageErrors).toEqual([]);
  });
});
