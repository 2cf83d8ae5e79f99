import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addUser } from '../../src/auth/users.js';
import { freePort, startHarness, type Harness } from '../support/harness.js';
import { ApiClient, STRONG_PASSWORD, enrollTotp, totpAt, type EnrolledUser } from '../http/client.js';

/** Security emails through a real SMTP server on loopback (the smtp-server package), as nodemailer sends them. */
interface Received {
  from: string;
  to: string[];
  body: string;
}

const DAY = 86_400_000;
const PROXY = '10.0.0.1';
const FIREFOX = 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0';
const CHROME_WINDOWS = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36';
const at = (ip: string) => ({ headers: { 'x-forwarded-for': ip } });

describe('security emails over SMTP', () => {
  let h: Harness;
  let smtp: SMTPServer;
  let alice: EnrolledUser;
  let laptop: ApiClient;
  const inbox: Received[] = [];

  beforeAll(async () => {
    const port = await freePort();
    smtp = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      onData(stream, session, callback) {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          inbox.push({
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
            to: session.envelope.rcptTo.map((r) => r.address),
            body: Buffer.concat(chunks).toString('utf8'),
          });
          callback();
        });
      },
    });
    await new Promise<void>((resolve) => smtp.listen(port, '127.0.0.1', resolve));
    h = await startHarness({
      overrides: {
        trusted_proxies: ['10.0.0.0/8'],
        smtp: { url: `smtp://127.0.0.1:${port}`, from: 'twofold <security@example.test>' },
        risk: { thresholds: { high: 3, very_high: 5 } },
      },
    });
    await addUser(h.deps, { username: 'alice', password: STRONG_PASSWORD, isAdmin: false, email: 'alice@example.test' }, null);
    laptop = new ApiClient(h, { ip: PROXY, userAgent: FIREFOX });
    alice = await enrollTotp(h, laptop, 'alice', STRONG_PASSWORD);
    for (let day = 0; day < 5; day++) {
      h.clock.advance(DAY);
      const login = await laptop.login('alice', STRONG_PASSWORD, at('81.2.69.142'));
      const done = await laptop.post(
        '/api/v1/login/second-factor',
        { method: 'totp', code: totpAt(alice.secret, h.clock.now()) },
        at('81.2.69.142'),
      );
      expect([login.status, done.status]).toEqual([200, 200]);
    }
    await h.deps.risk!.outbox!.drain();
  });
  afterAll(async () => {
    await h?.close();
    await new Promise<void>((resolve) => (smtp ? smtp.close(() => resolve()) : resolve()));
  });

  it('the enrollment was mailed as a factor change; the usual sign-ins were not mailed', () => {
    expect(inbox.map((m) => m.body.match(/^Subject: (.*)$/m)?.[1])).toEqual(['An authenticator app was set up on your account']);
    expect(inbox[0]!.to).toEqual(['alice@example.test']);
    expect(inbox[0]!.from).toBe('security@example.test');
  });

  it('a sign-in from a new device in a new country is mailed, and recorded as an audit event', async () => {
    inbox.length = 0;
    const other = new ApiClient(h, { ip: PROXY, userAgent: CHROME_WINDOWS });
    h.clock.advance(DAY);
    expect((await other.login('alice', STRONG_PASSWORD, at('1.1.1.1'))).body.state).toBe('second_factor_required');
    const done = await other.post(
      '/api/v1/login/second-factor',
      { method: 'totp', code: totpAt(alice.secret, h.clock.now()) },
      at('1.1.1.1'),
    );
    expect(done.status).toBe(200);
    await h.deps.risk!.outbox!.drain();
    expect(inbox).toHaveLength(1);
    // Headers unfolded (RFC 5322 §2.2.3), body quoted-printable soft breaks joined.
    const mail = inbox[0]!.body.replace(/\r?\n[ \t]+/g, ' ').replace(/=\r?\n/g, '');
    expect(mail).toMatch(/^Subject: New sign-in to your account from a new device and a new country \(AU\)/m);
    expect(mail).toContain('Sydney, AU (IP 1.1.1.1)');
    expect(mail).toContain('Chrome 126 on Windows 10');
    const events = await h.deps.store.events.list({ limit: 10 });
    expect(events.find((e) => e.type === 'notification.sent')).toMatchObject({
      outcome: 'success',
      detail: { kind: 'new_sign_in', channel: 'email' },
    });
  });

  it('regenerating recovery codes is mailed', async () => {
    h.clock.advance(60_000);
    await laptop.login('alice', STRONG_PASSWORD, at('81.2.69.142'));
    await laptop.post('/api/v1/login/second-factor', { method: 'totp', code: totpAt(alice.secret, h.clock.now()) }, at('81.2.69.142'));
    await h.deps.risk!.outbox!.drain();
    inbox.length = 0;
    const res = await laptop.post('/api/v1/factors/recovery-codes', undefined, at('81.2.69.142'));
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    await h.deps.risk!.outbox!.drain();
    expect(inbox.map((m) => m.body.match(/^Subject: (.*)$/m)?.[1])).toEqual(['New recovery codes were made on your account']);
  });

  it('a mail server that does not answer never delays a sign-in', async () => {
    const { Outbox } = await import('../../src/auth/notifications/outbox.js');
    const deadPort = await freePort();
    const reports: string[] = [];
    const outbox = new Outbox(
      { url: `smtp://127.0.0.1:${deadPort}`, from: 'x@example.test' },
      async (_m, o) => {
        reports.push(o.ok ? 'sent' : 'failed');
      },
      { attempts: 2, retryDelayMs: 10 },
    );
    const started = performance.now();
    outbox.enqueue({ to: 'a@example.test', subject: 's', text: 't', userId: 'usr_x', kind: 'test' });
    expect(performance.now() - started).toBeLessThan(50);
    await outbox.close();
    expect(reports).toEqual(['failed']);
  });
});
