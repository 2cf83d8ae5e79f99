// Top functions of a .cpuprofile (node --cpu-prof, or verify.ts --profile): by self time, and by
// inclusive time (samples with the function anywhere on the stack).
//   node bench/profile-top.mjs <file.cpuprofile> [top=40]
import { readFileSync } from 'node:fs';

const [file, topArg = '40'] = process.argv.slice(2);
if (!file) throw new Error('usage: node bench/profile-top.mjs <file.cpuprofile> [top]');
const top = Number(topArg);
const profile = JSON.parse(readFileSync(file, 'utf8'));
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const label = (id) => {
  const f = byId.get(id).callFrame;
  const where = f.url ? `${f.url.replace(/^file:\/\/.*?\/(node_modules|dist)\//, '$1/')}:${f.lineNumber + 1}` : '';
  return `${f.functionName || '(anonymous)'} ${where}`.trim();
};
const hits = new Map();
for (const id of profile.samples) hits.set(id, (hits.get(id) ?? 0) + 1);
const total = profile.samples.length;
const idle = [...hits].filter(([id]) => label(id) === '(idle)').reduce((a, [, c]) => a + c, 0);
const self = new Map();
const inclusive = new Map();
for (const [id, count] of hits) {
  self.set(label(id), (self.get(label(id)) ?? 0) + count);
  const seen = new Set();
  for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
    const key = label(cur);
    if (seen.has(key)) continue;
    seen.add(key);
    inclusive.set(key, (inclusive.get(key) ?? 0) + count);
  }
}
const pct = (n) => `${((100 * n) / (total - idle)).toFixed(1).padStart(5)}%`;
console.log(`${total} samples, ${((100 * idle) / total).toFixed(1)}% idle; percentages below are of the busy samples`);
console.log('\nself time:');
for (const [key, count] of [...self]
  .filter(([k]) => k !== '(idle)')
  .sort((a, b) => b[1] - a[1])
  .slice(0, top))
  console.log(`${pct(count)}  ${key}`);
console.log('\ninclusive time:');
for (const [key, count] of [...inclusive]
  .filter(([k]) => k !== '(idle)' && k !== '(root)')
  .sort((a, b) => b[1] - a[1])
  .slice(0, top)) {
  console.log(`${pct(count)}  ${key}`);
}
