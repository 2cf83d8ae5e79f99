import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authenticate, issueSession } from '../../src/auth/sessions.js';
import { addUser } from '../../src/auth/users.js';
import type { User } from '../../src/store/store.js';
import { startHarness, type Harness } from '../support/harness.js';
import { ApiClient, enrollTotp, expectJsonError, signInWithTotp, STRONG_PASSWORD, type EnrolledUser } from '../http/client.js';

/**
 * Each session keeps the country, network and risk verdict of the sign-in that opened it
 * (migration 005), and the admin console filters live sessions by them. Addresses are real ones
 * the packaged DB-IP database places: London (GB) and Sydney (AU).
 */
const LONDON = '81.2.69.142';
const SYDNEY = '1.1.1.1';
const FIREFOX = 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0';
const CHROME = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36';

interface AdminSessionJson {
  id: string;
  username: string;
  ip: string;
  country: string | null;
  network: string | null;
  risk_band: string | null;
  risk_score: number | null;
}

describe('sessions remember where their sign-in came from, and the admin filters by it', () => {
  let h: Harness;
  let admin: ApiClient;
  let alice: EnrolledUser;
  let aliceUser: User;
  let london: ApiClient;
  let sydney: ApiClient;

  const list = async (query: string): Promise<AdminSessionJson[]> => {
    const res = await admin.get(`/api/v1/admin/sessions${query}`);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return res.body.sessions;
  };

  beforeAll(async () => {
    h = await startHarness();
    await addUser(h.deps, { username: 'root', password: STRONG_PASSWORD, isAdmin: true }, null);
    aliceUser = await addUser(h.deps, { username: 'alice', password: STRONG_PASSWORD, isAdmin: false }, null);
    // The admin works from a documentation address: no country, no network.
    admin = new ApiClient(h, { ip: '198.51.100.10', userAgent: FIREFOX });
    await enrollTotp(h, admin, 'root', STRONG_PASSWORD);
    // alice enrolls in London (the enrollment session's origin carries over to the full one),
    // then signs in from Sydney on another browser.
    london = new ApiClient(h, { ip: LONDON, userAgent: FIREFOX });
    alice = await enrollTotp(h, london, 'alice', STRONG_PASSWORD);
    sydney = new ApiClient(h, { ip: SYDNEY, userAgent: CHROME });
    expect((await signInWithTotp(h, sydney, alice)).status).toBe(200);
  });
  afterAll(async () => {
    await h?.close();
  });

  it('stores country and risk verdict at sign-in and shows them in the admin API', async () => {
    const all = await list('');
    const mine = all.filter((s) => s.username === 'alice');
    expect(mine).toHaveLength(2);
    const fromLondon = mine.find((s) => s.ip === LONDON)!;
    const fromSydney = mine.find((s) => s.ip === SYDNEY)!;
    expect(fromLondon.country).toBe('GB');
    expect(fromSydney.country).toBe('AU');
    // The packaged database has no ASN data: the network is unknown, said as null.
    expect(fromLondon.network).toBeNull();
    // The risk engine judged both sign-ins; the session records what its risk.decision event says.
    const decisions = await h.deps.store.admin.searchEvents({ types: ['risk.decision'], userId: aliceUser.id, limit: 10 });
    const sydneyDecision = decisions.find((e) => e.ip === SYDNEY)!;
    expect(fromSydney.risk_band).toBe(sydneyDecision.detail!.band);
    expect(fromSydney.risk_score).toBe(sydneyDecision.detail!.score);
    expect(['low', 'medium', 'high', 'very_high']).toContain(fromLondon.risk_band);
    expect(typeof fromLondon.risk_score).toBe('number');
    // The admin's own session: judged by risk, but from an address no database places.
    const rootSession = all.find((s) => s.username === 'root')!;
    expect(rootSession.country).toBeNull();
    expect(rootSession.network).toBeNull();
  });

  it('filters by country (any case), risk band and network, together with user and address', async () => {
    expect((await list('?country=GB')).map((s) => s.ip)).toEqual([LONDON]);
    expect((await list('?country=au')).map((s) => s.ip)).toEqual([SYDNEY]);
    expect(await list('?country=PT')).toEqual([]);
    expect((await list('?country=AU&user=alice')).map((s) => s.ip)).toEqual([SYDNEY]);
    expect(await list('?country=AU&user=root')).toEqual([]);
    expect(await list(`?country=GB&ip=${SYDNEY}`)).toEqual([]);

    const all = await list('');
    for (const band of ['low', 'medium', 'high', 'very_high']) {
      const expected = all
        .filter((s) => s.risk_band === band)
        .map((s) => s.id)
        .sort();
      expect((await list(`?risk=${band}`)).map((s) => s.id).sort()).toEqual(expected);
    }
    const judged = all.filter((s) => s.risk_band !== null);
    expect((await list('?risk=low,medium,high,very_high')).length).toBe(judged.length);

    // A network needs an ASN database in production; here a session is issued with one through the
    // same use case sign-in uses, to prove the column and the filter.
    const issued = await issueSession(
      h.deps,
      aliceUser,
      'full',
      [{ method: 'pwd', at: h.clock.now() }],
      { ip: '192.0.2.5', userAgent: CHROME },
      'cookie',
      undefined,
      { country: 'NL', asn: '1136', riskBand: 'high', riskScore: 2.5 },
    );
    for (const network of ['AS1136', 'as1136', '1136']) {
      const found = await list(`?network=${network}`);
      expect(found.map((s) => s.id)).toEqual([issued.session.id]);
      expect(found[0]).toMatchObject({ country: 'NL', network: 'AS1136', risk_band: 'high', risk_score: 2.5 });
    }
    expect((await list('?network=AS1136&risk=high&country=NL&user=alice')).map((s) => s.id)).toEqual([issued.session.id]);
    expect(await list('?network=AS1136&risk=low')).toEqual([]);
  });

  it('refuses filters it cannot mean with a 400 JSON error', async () => {
    expectJsonError(await admin.get('/api/v1/admin/sessions?country=GBR'), 400, 'bad_request');
    expectJsonError(await admin.get('/api/v1/admin/sessions?network=example'), 400, 'bad_request');
    expectJsonError(await admin.get('/api/v1/admin/sessions?risk=extreme'), 400, 'bad_request');
    expectJsonError(await admin.get('/api/v1/admin/sessions?risk=low,,high'), 400, 'bad_request');
  });

  it('keeps the hot path as it was: authenticate() does not load the origin, the admin read does', async () => {
    const token = sydney.sessionToken!;
    h.deps.sessionCache.clear();
    const auth = await authenticate(h.deps, token);
    expect(auth.kind).toBe('authenticated');
    if (auth.kind !== 'authenticated') return;
    expect(auth.session.origin).toBeUndefined();
    expect((await h.deps.store.sessions.findById(auth.session.id))!.origin).toMatchObject({ country: 'AU' });
  });

  it("builds the user's behaviour baseline from the risk engine's history, and from the audit trail when it has none", async () => {
    const detail = async () => (await admin.get(`/api/v1/admin/users/${aliceUser.id}`)).body;
    // alice's completed sign-ins, as the risk engine stored them: the Sydney one (enrollment is not a sign-in it learns).
    let d = await detail();
    expect(d.baseline.source).toBe('risk_history');
    expect(d.baseline.sign_ins).toBe(1);
    expect(d.baseline.countries).toEqual([{ key: 'AU', count: 1 }]);
    expect(d.baseline.networks).toEqual([{ key: '1.1.1.0/24', count: 1 }]);
    expect(d.baseline.devices).toEqual([{ key: 'Chrome / Windows', count: 1 }]);
    // A sign-in whose network an ASN database named is counted by its AS (the store's own append, as sign-in calls it).
    const at = h.clock.now();
    await h.deps.store.loginHistory.append(
      {
        at,
        userId: aliceUser.id,
        ip: '145.97.1.2',
        asn: '1136',
        country: 'NL',
        region: 'North Holland',
        city: 'Amsterdam',
        userAgent: FIREFOX,
        browser: 'Firefox 128.0',
        os: 'Linux',
        deviceType: 'desktop',
      },
      h.deps.config.risk.retention,
    );
    d = await detail();
    expect(d.baseline.sign_ins).toBe(2);
    expect(d.baseline.countries.map((c: { key: string }) => c.key).sort()).toEqual(['AU', 'NL']);
    expect(d.baseline.networks.map((c: { key: string }) => c.key).sort()).toEqual(['1.1.1.0/24', 'AS1136']);
    expect(d.baseline.heat_map.flat().reduce((a: number, b: number) => a + b, 0)).toBe(2);
    expect(d.baseline.last_seen).toBe(new Date(at).toISOString());
    const page = (await admin.get(`/admin/users/${aliceUser.id}`)).raw.body;
    expect(page).toContain('data-baseline-source="risk_history"');
    expect(page).toContain('AS1136');

    // Once the history is gone (retention), the baseline falls back to the audit trail: the same Sydney sign-in.
    await h.deps.store.loginHistory.prune(h.clock.now() + 1);
    d = await detail();
    expect(d.baseline.source).toBe('audit_trail');
    expect(d.baseline.sign_ins).toBe(1);
    expect(d.baseline.networks).toEqual([{ key: '1.1.1.0/24', count: 1 }]);
    expect(d.baseline.countries.map((c: { key: string }) => c.key)).toContain('AU');
    expect((await admin.get(`/admin/users/${aliceUser.id}`)).raw.body).toContain('data-baseline-source="audit_trail"');
  });

  it('the sessions page shows the columns and filters by country, network and risk', async () => {
    const page = await admin.get('/admin/sessions?country=gb');
    expect(page.status).toBe(200);
    const text = page.raw.body;
    expect(text).toContain(`>${LONDON}<`);
    expect(text).not.toContain(`>${SYDNEY}<`);
    expect(text).toMatch(/<th scope="col">Country<\/th>/);
    expect(text).toMatch(/<td class="cell-country">GB<\/td>/);
    expect(text).toContain('value="GB"');
    const byNetwork = (await admin.get('/admin/sessions?network=AS1136')).raw.body;
    expect(byNetwork).toContain('AS1136');
    expect(byNetwork).toContain('badge-risk-high');
    const bad = (await admin.get('/admin/sessions?network=example')).raw.body;
    expect(bad).toContain('Network: give an AS number such as AS29695.');
    expect(bad).toContain('No live sessions match.');
  });
});
