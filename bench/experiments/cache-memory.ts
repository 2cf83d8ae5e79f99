// Heap per cached session: N sessions seeded as the bench seeds them, each read from SQLite and
// put in a SessionCache as authenticate() does, heapUsed measured after full GCs.
// npx tsx --expose-gc bench/experiments/cache-memory.ts [sessions=100000] [--snapshot]
// --snapshot also prints the difference of two heap snapshots by object kind, per session.
import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeHeapSnapshot } from 'node:v8';
import { benchToken, seedSessions } from '../seed.js';
import { SessionCache } from '../../src/auth/session-cache.js';
import { hashToken, type TokenHash } from '../../src/core/ids.js';
import { openSqliteStore } from '../../src/store/sqlite/open.js';

const count = Number(process.argv.slice(2).find((a) => /^\d+$/.test(a)) ?? 100_000);
const snapshots = process.argv.includes('--snapshot');
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with --expose-gc');

const dir = join(tmpdir(), 'twofold-cache-memory');
await seedSessions(dir, count);
const { store } = await openSqliteStore(join(dir, 'twofold.db'), { backgroundCheckpoints: false });
const cache = new SessionCache(count);
// The token hashes are made first: the server makes one per request anyway (as the key, it is kept).
const hashes = Array.from({ length: count }, (_, i) => hashToken(benchToken(i)) as TokenHash);

/** Bytes and count per object kind in a heap snapshot. */
function kinds(file: string): Map<string, [number, number]> {
  const heap = JSON.parse(readFileSync(file, 'utf8'));
  const fields: string[] = heap.snapshot.meta.node_fields;
  const [type, name, size] = ['type', 'name', 'self_size'].map((f) => fields.indexOf(f)) as [number, number, number];
  const types: string[] = heap.snapshot.meta.node_types[0];
  const byKind = new Map<string, [number, number]>();
  for (let i = 0; i < heap.nodes.length; i += fields.length) {
    const t = types[heap.nodes[i + type]]!;
    const kind = ['object', 'array', 'hidden'].includes(t) ? `${t}: ${heap.strings[heap.nodes[i + name]]}` : t;
    const entry = byKind.get(kind) ?? [0, 0];
    entry[0] += heap.nodes[i + size];
    entry[1]++;
    byKind.set(kind, entry);
  }
  return byKind;
}

gc();
gc();
const before = process.memoryUsage();
const beforeFile = snapshots ? writeHeapSnapshot(join(dir, 'before.heapsnapshot')) : '';
for (const tokenHash of hashes) {
  const session = (await store.sessions.findByTokenHash(tokenHash))!;
  const user = (await store.users.findById(session.userId))!;
  cache.set(tokenHash, { session, user }, cache.snapshot());
}
gc();
gc();
const after = process.memoryUsage();
const perSession = (a: number, b: number) => Math.round((b - a) / count);
console.log(
  JSON.stringify({
    sessions: cache.size,
    heap_bytes_per_session: perSession(before.heapUsed, after.heapUsed),
    array_buffer_bytes_per_session: perSession(before.arrayBuffers, after.arrayBuffers),
  }),
);
if (snapshots) {
  const a = kinds(beforeFile);
  const b = kinds(writeHeapSnapshot(join(dir, 'after.heapsnapshot')));
  const rows = [...b].map(([kind, [bytes, n]]) => [kind, bytes - (a.get(kind)?.[0] ?? 0), n - (a.get(kind)?.[1] ?? 0)] as const);
  for (const [kind, bytes, n] of rows.filter((r) => r[1] > count * 2).sort((x, y) => y[1] - x[1])) {
    console.log(`${(bytes / count).toFixed(1).padStart(7)} B/session ${String(n).padStart(9)} objects  ${kind.slice(0, 70)}`);
  }
}
await store.close();
rmSync(dir, { recursive: true, force: true });
