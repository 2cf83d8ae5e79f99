import type { Clock } from '../core/clock.js';
import { generateSigningKey, loadSigningKey, type LoadedSigningKey } from '../crypto/signing-key.js';
import type { SecretBox } from '../crypto/secret-box.js';
import type { SigningKeyRecord, SigningKeyStore } from '../store/store.js';

/** How often keys are re-read from the store, so a `twofold keys rotate` in another process is seen. */
const RELOAD_INTERVAL_MS = 30_000;
/**
 * A retired key keeps verifying for an access token's lifetime plus this margin: a process may sign
 * with it for up to one reload interval after another process rotated.
 */
const RETIREMENT_MARGIN_MS = 2 * RELOAD_INTERVAL_MS;

export interface Jwks {
  keys: Record<string, unknown>[];
}

/**
 * The access-token signing keys: the newest unretired key signs; every key not past its
 * `verify_until` verifies and is published at /.well-known/jwks.json. Loaded lazily, so opening the
 * store (CLI commands) writes nothing; the first token issued creates the first key.
 */
export class KeyRing {
  private keys: LoadedSigningKey[] = [];
  private loadedAt = Number.NEGATIVE_INFINITY;
  private loading: Promise<void> | undefined;

  constructor(
    private readonly store: SigningKeyStore,
    private readonly box: SecretBox,
    private readonly clock: Clock,
    private readonly accessTtlMs: number,
  ) {}

  /** The key that signs now, created on first use. */
  async signingKey(): Promise<LoadedSigningKey> {
    await this.fresh();
    let active = this.keys.find((key) => key.record.retiredAt === null);
    if (!active) {
      await this.store.add(await generateSigningKey(this.box, this.clock.now()));
      await this.reload();
      active = this.keys.find((key) => key.record.retiredAt === null);
      if (!active) throw new Error('no active signing key after creating one');
    }
    return active;
  }

  /** The key with this id if it still verifies; an unknown id re-reads the store once (another process may have rotated). */
  async verificationKey(kid: string): Promise<LoadedSigningKey | undefined> {
    await this.fresh();
    let key = this.keys.find((k) => k.record.kid === kid);
    if (!key && this.clock.now() - this.loadedAt > 1000) {
      await this.reload();
      key = this.keys.find((k) => k.record.kid === kid);
    }
    return key && this.verifies(key.record) ? key : undefined;
  }

  /** Public keys that still verify (RFC 7517 JWK Set). */
  async jwks(): Promise<Jwks> {
    await this.fresh();
    return { keys: this.keys.filter((key) => this.verifies(key.record)).map((key) => key.record.publicJwk) };
  }

  /** Every stored key with its state, the active one first, then newest first (for `twofold keys list`). */
  async list(): Promise<Array<SigningKeyRecord & { state: 'active' | 'verifying' | 'expired' }>> {
    const now = this.clock.now();
    const keys = (await this.store.list()).map((record) => ({
      ...record,
      state:
        record.retiredAt === null ? ('active' as const) : (record.verifyUntil ?? 0) > now ? ('verifying' as const) : ('expired' as const),
    }));
    // Stable sort: within each group the store's newest-first order stays (clocks of two processes may disagree).
    return keys.sort((a, b) => Number(b.retiredAt === null) - Number(a.retiredAt === null));
  }

  /**
   * A new key signs from now on; the old ones retire but verify until every token they signed has
   * expired, after which they leave the JWKS and the store.
   */
  async rotate(): Promise<{ kid: string; retired: number; deleted: number }> {
    const now = this.clock.now();
    const record = await generateSigningKey(this.box, now);
    await this.store.add(record);
    const retired = await this.store.retireOthers(record.kid, now, now + this.accessTtlMs + RETIREMENT_MARGIN_MS);
    const deleted = await this.store.deleteExpired(now);
    await this.reload();
    return { kid: record.kid, retired, deleted };
  }

  private verifies(record: SigningKeyRecord): boolean {
    return record.retiredAt === null || (record.verifyUntil ?? 0) > this.clock.now();
  }

  private async fresh(): Promise<void> {
    if (this.clock.now() - this.loadedAt < RELOAD_INTERVAL_MS && this.loadedAt <= this.clock.now()) return;
    await this.reload();
  }

  private async reload(): Promise<void> {
    // One read at a time: concurrent requests after the interval share it.
    this.loading ??= (async () => {
      try {
        const records = await this.store.list();
        const known = new Map(this.keys.map((key) => [key.record.kid, key]));
        const keys: LoadedSigningKey[] = [];
        for (const record of records) {
          const loaded = known.get(record.kid);
          keys.push(loaded ? { ...loaded, record } : await loadSigningKey(this.box, record));
        }
        this.keys = keys;
        this.loadedAt = this.clock.now();
      } finally {
        this.loading = undefined;
      }
    })();
    await this.loading;
  }
}
