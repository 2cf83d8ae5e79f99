import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { RiskEngine, type RiskEngineOptions } from '../core/risk/engine.js';
import { readRbaCsv, splitCsvLine } from './rba-csv.js';
import { ATTACKER_MODELS, type AttackerModel, type RowLabel } from './simulate.js';

export const TPR_TARGETS = [0.97, 0.99, 0.995, 0.999] as const;
/** History sizes: a legitimate sign-in with h prior logins falls in the largest bucket ≤ h. */
export const HISTORY_SIZES = [4, 12, 20, 40] as const;

export interface ModelUnderTest {
  name: string;
  engine: RiskEngineOptions;
}

export interface AttackerResult {
  attacks: number;
  rocAuc: number;
  /** TPR → history size → median per-user re-authentication rate (null: no users there). */
  reauth: Record<string, Record<string, number | null>>;
}

export interface ModelResult {
  model: string;
  legitimate: number;
  byAttacker: Record<AttackerModel, AttackerResult>;
}

interface Labels {
  label: RowLabel;
  attacker: AttackerModel | '';
}

async function readLabels(path: string): Promise<Map<string, Labels>> {
  const labels = new Map<string, Labels>();
  let first = true;
  for await (const line of createInterface({ input: createReadStream(path), crlfDelay: Infinity })) {
    if (first || line === '') {
      first = false;
      continue;
    }
    const [index, label, attacker] = splitCsvLine(line) ?? [];
    if (index !== undefined) labels.set(index, { label: label as RowLabel, attacker: (attacker ?? '') as AttackerModel | '' });
  }
  return labels;
}

/**
 * Replays the data set through each model and measures it the way Wiefling et al. do: for each
 * attacker model and target TPR, the threshold catching that share of its attacks, then per user
 * the share of their legitimate sign-ins that threshold would re-authenticate, by history size
 * (median over users); and ROC AUC. Attacks are scored but never learnt (the engine would have
 * stopped them); legitimate failures still count towards failure velocity.
 */
export async function evaluate(dataPath: string, labelsPath: string, models: ModelUnderTest[]): Promise<ModelResult[]> {
  const labels = await readLabels(labelsPath);
  const results: ModelResult[] = [];
  for (const model of models) {
    const engine = new RiskEngine(model.engine);
    const priorLogins = new Map<string, number>();
    const legit: Array<{ user: string; prior: number; score: number }> = [];
    const attacks = new Map<AttackerModel, number[]>(ATTACKER_MODELS.map((m) => [m, []]));
    let nextPrune = -Infinity;
    for await (const row of readRbaCsv(createReadStream(dataPath))) {
      const ctx = row.context;
      if (ctx.at >= nextPrune) {
        engine.prune(ctx.at);
        nextPrune = ctx.at + 86_400_000;
      }
      const label = labels.get(row.index);
      if (!label) throw new Error(`row ${row.index} (line ${row.line}) has no label in ${labelsPath}`);
      if (label.label === 'attack') {
        attacks.get(label.attacker as AttackerModel)?.push(engine.score(ctx));
      } else if (label.label === 'legit') {
        const prior = priorLogins.get(ctx.userId) ?? 0;
        if (prior > 0) legit.push({ user: ctx.userId, prior, score: engine.score(ctx) });
        engine.recordSuccess(ctx);
        priorLogins.set(ctx.userId, prior + 1);
      } else engine.recordFailure(ctx);
    }
    const byAttacker = {} as Record<AttackerModel, AttackerResult>;
    const legitScores = legit.map((l) => l.score);
    for (const [attacker, scores] of attacks) {
      const reauth: AttackerResult['reauth'] = {};
      const descending = [...scores].sort((a, b) => b - a);
      for (const tpr of TPR_TARGETS) {
        const threshold = descending[Math.max(0, Math.ceil(tpr * descending.length) - 1)] ?? Infinity;
        reauth[String(tpr)] = medianReauthByHistory(legit, threshold);
      }
      byAttacker[attacker] = { attacks: scores.length, rocAuc: rocAuc(legitScores, scores), reauth };
    }
    results.push({ model: model.name, legitimate: legit.length, byAttacker });
  }
  return results;
}

function bucketOf(prior: number): number | undefined {
  let bucket: number | undefined;
  for (const size of HISTORY_SIZES) if (prior >= size) bucket = size;
  return bucket;
}

function medianReauthByHistory(
  legit: Array<{ user: string; prior: number; score: number }>,
  threshold: number,
): Record<string, number | null> {
  const perBucket = new Map<number, Map<string, { asked: number; total: number }>>();
  for (const l of legit) {
    const bucket = bucketOf(l.prior);
    if (bucket === undefined) continue;
    let users = perBucket.get(bucket);
    if (!users) perBucket.set(bucket, (users = new Map()));
    const tally = users.get(l.user) ?? { asked: 0, total: 0 };
    tally.total++;
    if (l.score >= threshold) tally.asked++;
    users.set(l.user, tally);
  }
  const out: Record<string, number | null> = {};
  for (const size of HISTORY_SIZES) {
    const rates = [...(perBucket.get(size)?.values() ?? [])].map((t) => t.asked / t.total);
    out[String(size)] = rates.length ? median(rates) : null;
  }
  return out;
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** P(attack score > legitimate score), ties counting half (Mann–Whitney U / (n·m)). */
export function rocAuc(legit: number[], attacks: number[]): number {
  if (legit.length === 0 || attacks.length === 0) return NaN;
  const all = [...legit.map((s) => ({ s, attack: false })), ...attacks.map((s) => ({ s, attack: true }))].sort((a, b) => a.s - b.s);
  let rankSum = 0;
  for (let i = 0; i < all.length;) {
    let j = i;
    while (j < all.length && all[j]!.s === all[i]!.s) j++;
    const averageRank = (i + 1 + j) / 2;
    for (let k = i; k < j; k++) if (all[k]!.attack) rankSum += averageRank;
    i = j;
  }
  const m = attacks.length;
  return (rankSum - (m * (m + 1)) / 2) / (m * legit.length);
}

/** The results as Markdown: one table per TPR target, model rows under each attacker model. */
export function markdownTables(results: ModelResult[], tprs: readonly number[] = TPR_TARGETS): string {
  const lines: string[] = [];
  for (const tpr of tprs) {
    lines.push(`Median per-user re-authentication rate of legitimate sign-ins at TPR ${tpr}, by prior logins:`, '');
    lines.push('| attacker | model | 4 | 12 | 20 | 40 | ROC AUC |', '|---|---|---|---|---|---|---|');
    for (const attacker of ATTACKER_MODELS) {
      for (const r of results) {
        const a = r.byAttacker[attacker];
        const cells = HISTORY_SIZES.map((h) => {
          const v = a.reauth[String(tpr)]?.[String(h)];
          return v === null || v === undefined ? '–' : v.toFixed(3);
        });
        lines.push(`| ${attacker} | ${r.model} | ${cells.join(' | ')} | ${a.rocAuc.toFixed(4)} |`);
      }
    }
    lines.push('');
  }
  return lines.join('\n');
}
