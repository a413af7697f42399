// Reports the bundle's size: the initial JavaScript (the entry script and
// the chunks index.html preloads) and the chunks loaded on demand, raw and
// gzipped. Fails when the initial JavaScript is over the budget.
import { readFileSync, readdirSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { join } from 'node:path';

const BUDGET = 400 * 1024; // gzipped initial JavaScript
const dist = new URL('../dist/', import.meta.url).pathname;
const html = readFileSync(join(dist, 'index.html'), 'utf8');
const initial = new Set([...html.matchAll(/(?:src|href)="\/(assets\/[^"]+\.js)"/g)].map((m) => m[1]));
let initRaw = 0;
let initGz = 0;
const rows = [];
for (const f of readdirSync(join(dist, 'assets')).sort()) {
  const data = readFileSync(join(dist, 'assets', f));
  const gz = gzipSync(data, { level: 9 }).length;
  const isInitial = initial.has('assets/' + f);
  if (isInitial) {
    initRaw += data.length;
    initGz += gz;
  }
  rows.push(`| ${f} | ${isInitial ? 'initial' : f.endsWith('.css') ? 'initial (CSS)' : 'on demand'} | ${(data.length / 1024).toFixed(1)} KiB | ${(gz / 1024).toFixed(1)} KiB |`);
}
console.log('| file | loaded | raw | gzip |\n|---|---|---|---|\n' + rows.join('\n'));
console.log(`\ninitial JavaScript: ${(initRaw / 1024).toFixed(1)} KiB raw, ${(initGz / 1024).toFixed(1)} KiB gzipped (budget ${BUDGET / 1024} KiB)`);
if (initGz > BUDGET) {
  console.error('over the budget');
  process.exit(1);
}
