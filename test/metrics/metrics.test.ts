import parsePrometheusTextFormat, { type ParsedFamily } from 'parse-prometheus-text-format';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addUser } from '../../src/auth/users.js';
import { startHarness, type Harness } from '../support/harness.js';
import { ApiClient, enrollTotp, expectJsonError, signInWithTotp, STRONG_PASSWORD, type EnrolledUser } from '../http/client.js';

/**
 * GET /metrics scraped the way Prometheus does and read back with a Prometheus text-format parser:
 * the numbers must be the ones the requests made.
 */

const TOKEN = 'scrape-token-abcdefghijklmnop';

function family(families: ParsedFamily[], name: string): ParsedFamily {
  const found = families.find((f) => f.name === name);
  if (!found) throw new Error(`no metric family ${name} in ${families.map((f) => f.name).join(', ')}`);
  return found;
}

function sample(families: ParsedFamily[], name: string, labels: Record<string, string>): number {
  const match = family(families, name).metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v));
  return match ? Number(match.value) : 0;
}

describe('GET /metrics', () => {
  let h: Harness;
  let alice: EnrolledUser;
  let laptop: ApiClient;

  let lastText = '';
  async function scrape(): Promise<ParsedFamily[]> {
    const res = await h.app.inject({ method: 'GET', url: '/metrics', remoteAddress: '127.0.0.1' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    lastText = res.body;
    return parsePrometheusTextFormat(res.body);
  }

  /**
   * parse-prometheus-text-format 1.1.1 merges the series of a histogram that has labels (its
   * buckets lose their labels, _count and _sum are dropped), so a histogram's series are read from
   * the sample lines themselves: `name{label="v",...} value`, the format's simplest production.
   */
  function histogramCount(text: string, name: string, labels: Record<string, string>): number {
    for (const line of text.split('\n')) {
      const m = /^([a-z_]+)\{([^}]*)\} (\S+)$/.exec(line);
      if (!m || m[1] !== `${name}_count`) continue;
      const found = Object.fromEntries([...m[2]!.matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
      if (Object.entries(labels).every(([k, v]) => found[k] === v)) return Number(m[3]);
    }
    return 0;
  }

  beforeAll(async () => {
    h = await startHarness({ overrides: { 'metrics.token': TOKEN, 'rate_limit.failures_before_delay': 2 } });
    await addUser(h.deps, { username: 'alice', password: STRONG_PASSWORD, isAdmin: false }, null);
    laptop = new ApiClient(h, { ip: '203.0.113.7' });
    alice = await enrollTotp(h, laptop, 'alice', STRONG_PASSWORD);
  });
  afterAll(async () => {
    await h?.close();
  });

  it('answers loopback clients and token holders only', async () => {
    const outside = await h.app.inject({ method: 'GET', url: '/metrics', remoteAddress: '203.0.113.50' });
    expect(outside.statusCode).toBe(403);
    expect(outside.json().error.code).toBe('forbidden');
    const wrong = await h.app.inject({
      method: 'GET',
      url: '/metrics',
      remoteAddress: '203.0.113.50',
      headers: { authorization: `Bearer ${TOKEN}x` },
    });
    expect(wrong.statusCode).toBe(403);
    const withToken = await h.app.inject({
      method: 'GET',
      url: '/metrics',
      remoteAddress: '203.0.113.50',
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(withToken.statusCode).toBe(200);
    expect((await h.app.inject({ method: 'GET', url: '/metrics', remoteAddress: '::1' })).statusCode).toBe(200);
  });

  it('counts sign-ins by outcome and method, and active sessions', async () => {
    const before = await scrape();
    const phone = new ApiClient(h, { ip: '192.0.2.4' });
    expect((await signInWithTotp(h, phone, alice)).status).toBe(200);
    expect((await new ApiClient(h, { ip: '192.0.2.5' }).login('alice', 'wrong password here')).status).toBe(401);
    const after = await scrape();
    const delta = (labels: Record<string, string>) =>
      sample(after, 'twofold_sign_ins_total', labels) - sample(before, 'twofold_sign_ins_total', labels);
    expect(delta({ outcome: 'success', method: 'totp' })).toBe(1);
    expect(delta({ outcome: 'second_factor_asked', method: 'password' })).toBe(1);
    expect(delta({ outcome: 'failed', method: 'password' })).toBe(1);
    expect(family(after, 'twofold_sign_ins_total').type).toBe('COUNTER');
    const active = await h.deps.store.admin.countActiveSessions(h.clock.now());
    expect(active).toBe(2);
    expect(sample(after, 'twofold_active_sessions', {})).toBe(active);
  });

  it('times validations of forward-auth and authenticated API requests in a histogram', async () => {
    await scrape();
    const before = lastText;
    for (let i = 0; i < 3; i++) expect((await laptop.session()).status).toBe(200);
    const forward = (cookie: boolean) =>
      h.app.inject({
        method: 'GET',
        url: '/auth/request',
        headers: {
          'x-original-url': 'https://app.example.com/reports',
          ...(cookie ? { cookie: `${laptop.names.session}=${laptop.sessionToken}` } : {}),
        },
      });
    expect((await forward(true)).statusCode).toBe(200);
    expect((await forward(true)).statusCode).toBe(200);
    expect((await forward(false)).statusCode).toBe(401);
    expect(family(await scrape(), 'twofold_validation_duration_seconds').type).toBe('HISTOGRAM');
    const after = lastText;
    const count = (text: string, kind: string, result: string) =>
      histogramCount(text, 'twofold_validation_duration_seconds', { kind, result });
    expect(count(after, 'api', 'allowed') - count(before, 'api', 'allowed')).toBe(3);
    expect(count(after, 'forward_auth', 'allowed') - count(before, 'forward_auth', 'allowed')).toBe(2);
    expect(count(after, 'forward_auth', 'unauthenticated') - count(before, 'forward_auth', 'unauthenticated')).toBe(1);
    const inf = after
      .split('\n')
      .find((l) => l.startsWith('twofold_validation_duration_seconds_bucket{le="+Inf",kind="api",result="allowed"}'));
    expect(Number(inf?.split(' ')[1])).toBe(count(after, 'api', 'allowed'));
  });

  it('counts rate-limit hits', async () => {
    const attacker = new ApiClient(h, { ip: '192.0.2.66' });
    let limited = 0;
    for (let i = 0; i < 5; i++) {
      const res = await attacker.login('alice', `wrong guess number ${i}`);
      if (res.status === 429) limited++;
    }
    expect(limited).toBeGreaterThan(0);
    const families = await scrape();
    expect(sample(families, 'twofold_rate_limit_hits_total', { route: '/api/v1/login' })).toBe(limited);
  });

  it('counts the risk engine’s decisions by band, one per accepted password', async () => {
    const total = (families: ParsedFamily[]) =>
      family(families, 'twofold_risk_decisions_total').metrics.reduce((sum, m) => sum + Number(m.value), 0);
    const before = await scrape();
    expect(total(before)).toBeGreaterThan(0); // every sign-in so far was judged
    expect((await signInWithTotp(h, new ApiClient(h, { ip: '192.0.2.77' }), alice)).status).toBe(200);
    const after = await scrape();
    expect(total(after) - total(before)).toBe(1);
    const stored = await h.deps.store.admin.searchEvents({ types: ['risk.decision'], limit: 1000 });
    expect(total(after)).toBe(stored.length);
    const last = stored[0]!.detail!;
    expect(
      sample(after, 'twofold_risk_decisions_total', { band: String(last.band), decision: String(last.decision) }) -
        sample(before, 'twofold_risk_decisions_total', { band: String(last.band), decision: String(last.decision) }),
    ).toBe(1);
  });

  it('refuses a bad request to the admin-free metrics route in the JSON error shape', async () => {
    const res = await new ApiClient(h, { ip: '198.51.100.1' }).get('/metrics');
    expectJsonError(res, 403, 'forbidden');
  });
});
