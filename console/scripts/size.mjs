// Prints the total size of the built JavaScript, raw and gzip, and fails above the budget (300 kB gzip).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

const budget = 300 * 1024;
const dir = new URL('../dist/', import.meta.url).pathname;
const files = [];
(function walk(d) {
  for (const name of readdirSync(d)) {
    const p = join(d, name);
    if (statSync(p).isDirectory()) walk(p);
    else if (name.endsWith('.js')) files.push(p);
  }
})(dir);
let raw = 0;
let gz = 0;
for (const f of files) {
  const b = readFileSync(f);
  raw += b.length;
  gz += gzipSync(b, { level: 9 }).length;
}
const kb = (n) => (n / 1024).toFixed(1) + ' kB';
console.log(`console JS: ${files.length} file(s), ${kb(raw)} raw, ${kb(gz)} gzip (budget ${kb(budget)} gzip)`);
if (gz > budget) {
  console.error('console JS is over its gzip budget');
  process.exit(1);
}
