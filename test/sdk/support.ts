import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import Fastify, { type FastifyInstance } from 'fastify';
import { TwofoldClient, type TokenSet } from '../../packages/sdk/src/index.js';
import type { AuthenticatorOptions } from '../../packages/sdk/src/authenticator.js';
import { twofoldExpress } from '../../packages/sdk/src/express.js';
import { twofoldFastify } from '../../packages/sdk/src/fastify.js';
import { totpAt, type EnrolledUser } from '../http/client.js';
import type { Harness } from '../support/harness.js';

/** The user agent of the "mobile app" that signs in for tokens and then calls the protected API. */
export const APP_USER_AGENT = 'ExampleApp/1.0 (vitest)';

/** The SDK client as an app would hold it, sharing the harness's manual clock. */
export const sdkClient = (h: Harness): TwofoldClient =>
  new TwofoldClient({ baseUrl: h.baseUrl, userAgent: APP_USER_AGENT, now: () => h.clock.now() });

/** A token sign-in through the SDK: password, then a TOTP code of a fresh 30 s step (each is good once). */
export async function sdkSignIn(h: Harness, client: TwofoldClient, user: EnrolledUser): Promise<TokenSet> {
  h.clock.advance(30_000);
  const login = await client.login({ username: user.username, password: user.password });
  if (login.state !== 'second_factor_required') throw new Error(`expected second_factor_required, got ${login.state}`);
  return client.secondFactor(login.pendingToken, { method: 'totp', code: totpAt(user.secret, h.clock.now()) });
}

/** A fresh TOTP code, one step after the last one used. */
export function nextTotp(h: Harness, user: EnrolledUser): { method: 'totp'; code: string } {
  h.clock.advance(30_000);
  return { method: 'totp', code: totpAt(user.secret, h.clock.now()) };
}

export type Framework = 'express' | 'fastify';
export type Mode = 'offline' | 'online';

/**
 * An app protected by the SDK, listening on a loopback port. Every mode has the same routes under
 * its own prefix: `/offline/me`, `/online/transfer` …
 *   GET  /<mode>/me        authenticate; answers the identity
 *   POST /<mode>/transfer  authenticate + requireStepUp({ maxAge: 300 })
 *   GET  /<mode>/keys      authenticate + requireStepUp({ phishingResistant: true })
 */
export interface ProtectedApp {
  url: string;
  close(): Promise<void>;
}

function optionsFor(h: Harness, mode: Mode): AuthenticatorOptions {
  return {
    baseUrl: h.baseUrl,
    mode,
    now: () => h.clock.now(),
    // A real verifier waits 30 s before fetching the JWKS again for an unknown kid; the test cannot.
    jwksCooldown: 0,
  };
}

export async function startProtectedApp(h: Harness, framework: Framework): Promise<ProtectedApp> {
  return framework === 'express' ? startExpress(h) : startFastify(h);
}

async function startExpress(h: Harness): Promise<ProtectedApp> {
  const app = express();
  for (const mode of ['offline', 'online'] as const) {
    const twofold = twofoldExpress(optionsFor(h, mode));
    app.get(`/${mode}/me`, twofold.authenticate, (req, res) => {
      res.json(req.twofold);
    });
    app.post(`/${mode}/transfer`, twofold.authenticate, twofold.requireStepUp({ maxAge: 300 }), (_req, res) => {
      res.json({ done: true });
    });
    app.get(`/${mode}/keys`, twofold.authenticate, twofold.requireStepUp({ phishingResistant: true }), (_req, res) => {
      res.json({ done: true });
    });
  }
  const server = await new Promise<Server>((resolve, reject) => {
    const listening = app.listen(0, '127.0.0.1', (err?: Error) => (err ? reject(err) : resolve(listening)));
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

async function startFastify(h: Harness): Promise<ProtectedApp> {
  const app: FastifyInstance = Fastify({ logger: false });
  for (const mode of ['offline', 'online'] as const) {
    const twofold = twofoldFastify(optionsFor(h, mode));
    app.get(`/${mode}/me`, { preHandler: twofold.authenticate }, async (request) => request.twofold);
    app.post(`/${mode}/transfer`, { preHandler: [twofold.authenticate, twofold.requireStepUp({ maxAge: 300 })] }, async () => ({
      done: true,
    }));
    app.get(`/${mode}/keys`, { preHandler: [twofold.authenticate, twofold.requireStepUp({ phishingResistant: true })] }, async () => ({
      done: true,
    }));
  }
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  return { url, close: () => app.close() };
}

export interface AppReply {
  status: number;
  body: any;
  headers: Headers;
}

/** A call to the protected app as the app's client makes it: its own user agent, a bearer and/or cookies. */
export async function callApp(
  app: ProtectedApp,
  method: 'GET' | 'POST',
  path: string,
  options: { bearer?: string; authorization?: string; cookie?: string; userAgent?: string } = {},
): Promise<AppReply> {
  const headers: Record<string, string> = { 'user-agent': options.userAgent ?? APP_USER_AGENT };
  if (options.bearer !== undefined) headers.authorization = `Bearer ${options.bearer}`;
  if (options.authorization !== undefined) headers.authorization = options.authorization;
  if (options.cookie !== undefined) headers.cookie = options.cookie;
  const response = await fetch(`${app.url}${path}`, { method, headers });
  const text = await response.text();
  let body: unknown = text;
  if ((response.headers.get('content-type') ?? '').includes('json')) body = JSON.parse(text);
  return { status: response.status, body, headers: response.headers };
}
