import { chromium } from 'playwright-core';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
const base = process.env.BASE || 'http://127.0.0.1:9311';
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium', headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
const page = await ctx.newPage();
const logs = [];
page.on('console', (m) => logs.push(m.type() + ': ' + m.text()));
page.on('crash', () => console.log('CRASH')); page.on('close', () => console.log('CLOSE')); page.on('pageerror', (e) => logs.push('pageerror: ' + e.message));
await page.goto(base + '/');
await page.fill('input[name=username]', 'admin');
await page.fill('input[name=password]', 'adminpass123');
await page.click('button[type=submit]');
await page.waitForSelector('.query-editor .cm-content');
await page.screenshot({ path: '/tmp/shots/welcome.png' });
await page.click('.query-editor .cm-content');
await page.keyboard.type(process.env.Q || 'error');
await page.keyboard.press('Control+Enter');
await page.waitForSelector('[data-testid=message]', { timeout: 20000 }).catch(e => logs.push(String(e)));
await page.waitForTimeout(2500);
await page.screenshot({ path: '/tmp/shots/search.png' });
console.log(logs.join('\n'));
await browser.close();
