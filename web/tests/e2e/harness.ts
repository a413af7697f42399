// The browser tests' world: a real dohyo server (the binary the Makefile
// built) over a temporary data folder, fed demo traffic and test events
// through its real HTTP source receivers, and Debian's Chromium driven by
// playwright-core (never a downloaded browser).

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type Browser } from 'playwright-core';

export const ADMIN_PASSWORD = 'e2e-admin-password-1';

export interface Server {
  url: string;
  accessId: string;
  accessKey: string;
  dir: string;
  proc: ChildProcess;
  log: string[];
}

const root = resolve(__dirname, '../../..');

function sleep(ms: number) {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * startServer runs `dohyo demo`: the server (`dohyo serve`'s code) plus demo
 * traffic uploaded through the server's own HTTP source receivers, with a
 * backfill of the last 24 hours, then live traffic.
 */
export async function startServer(backfillEvents = 200_000, backfill = '24h'): Promise<Server> {
  const bin = process.env.DOHYO_BIN || join(root, 'bin/dohyo');
  if (!existsSync(bin)) throw new Error(`${bin} does not exist: run "make build" first`);
  const dir = mkdtempSync(join(tmpdir(), 'dohyo-e2e-'));
  const log: string[] = [];
  const proc = spawn(
    bin,
    ['demo', '--data-dir', dir, '--listen', '127.0.0.1:0', '--geoip-fetch=false', '--backfill', backfill, '--backfill-events', String(backfillEvents), '--rate', '20', '--fsync', '100ms'],
    { env: { ...process.env, DOHYO_ADMIN_PASSWORD: ADMIN_PASSWORD }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let done = false;
  const onData = (b: Buffer) => {
    const s = b.toString();
    log.push(s);
    // A line may arrive in two chunks: look at the end of the whole output.
    if (log.join('').slice(-4000).includes('backfill done')) done = true;
  };
  proc.stdout!.on('data', onData);
  proc.stderr!.on('data', onData);
  let exited = false;
  proc.on('exit', () => (exited = true));
  const deadline = Date.now() + 300_000;
  while (!done) {
    if (exited) throw new Error('dohyo exited:\n' + log.join('').slice(-3000));
    if (Date.now() > deadline) throw new Error('the demo backfill did not finish in 5 minutes:\n' + log.join('').slice(-3000));
    await sleep(250);
  }
  const url = readFileSync(join(dir, 'server.addr'), 'utf8').trim();
  const creds = Object.fromEntries(
    readFileSync(join(dir, 'bootstrap-credentials'), 'utf8')
      .split('\n')
      .filter((l) => l.includes('='))
      .map((l) => l.split('=', 2) as [string, string]),
  );
  return { url, accessId: creds.DOHYO_ACCESS_ID, accessKey: creds.DOHYO_ACCESS_KEY, dir, proc, log };
}

export async function stopServer(s: Server | undefined) {
  if (!s) return;
  s.proc.kill('SIGTERM');
  const deadline = Date.now() + 30_000;
  while (s.proc.exitCode === null && s.proc.signalCode === null && Date.now() < deadline) await sleep(100);
  if (s.proc.exitCode === null && s.proc.signalCode === null) s.proc.kill('SIGKILL');
  rmSync(s.dir, { recursive: true, force: true });
}

function basic(s: Server) {
  return 'Basic ' + Buffer.from(`${s.accessId}:${s.accessKey}`).toString('base64');
}

/** createSource makes an HTTP source and returns its receiver URL. */
export async function createSource(s: Server, name: string, category: string): Promise<string> {
  const res = await fetch(s.url + '/api/v1/sources', {
    method: 'POST',
    headers: { Authorization: basic(s), 'Content-Type': 'application/json' },
    body: JSON.stringify({ name, category, multiline: 'off' }),
  });
  if (!res.ok) throw new Error(`create source: ${res.status} ${await res.text()}`);
  return (await res.json()).url;
}

/** send posts log lines to a receiver URL (the real HTTP source). */
export async function send(receiver: string, lines: string[]) {
  const res = await fetch(receiver, { method: 'POST', body: lines.join('\n') + '\n' });
  if (!res.ok) throw new Error(`ingest: ${res.status} ${await res.text()}`);
}

/** countMatches runs a search through the job API and returns its message count. */
export async function countMatches(s: Server, query: string, fromMs: number): Promise<number> {
  const h = { Authorization: basic(s), 'Content-Type': 'application/json' };
  const res = await fetch(s.url + '/api/v1/search/jobs', { method: 'POST', headers: h, body: JSON.stringify({ query, from: String(fromMs), to: String(Date.now() + 60_000) }) });
  if (!res.ok) throw new Error(`search: ${res.status} ${await res.text()}`);
  const { id } = await res.json();
  for (let i = 0; i < 200; i++) {
    const st = await (await fetch(`${s.url}/api/v1/search/jobs/${id}`, { headers: h })).json();
    if (st.state === 'DONE GATHERING RESULTS' || st.state === 'FORCE PAUSED') {
      await fetch(`${s.url}/api/v1/search/jobs/${id}`, { method: 'DELETE', headers: h });
      return st.messageCount;
    }
    await sleep(100);
  }
  throw new Error('search did not finish');
}

/** explainOK reports whether the server accepts a query (an operator may not exist yet). */
export async function explainOK(s: Server, query: string): Promise<boolean> {
  const res = await fetch(s.url + '/api/v1/query/explain', { method: 'POST', headers: { Authorization: basic(s), 'Content-Type': 'application/json' }, body: JSON.stringify({ query }) });
  return res.ok;
}

export async function launchBrowser(): Promise<Browser> {
  const executablePath = process.env.CHROMIUM || '/usr/bin/chromium';
  if (!existsSync(executablePath)) throw new Error(`${executablePath} is missing: apt-get install -y chromium`);
  // playwright-core gives every launch a fresh temporary --user-data-dir.
  return chromium.launch({
    executablePath,
    headless: true,
    timeout: 60_000,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

export async function waitFor(fn: () => Promise<boolean>, ms: number, what: string) {
  const deadline = Date.now() + ms;
  while (!(await fn())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}
