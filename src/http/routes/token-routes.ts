import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { AppError } from '../../auth/errors.js';
import { refreshTokens, type IssuedTokens } from '../../auth/refresh-tokens.js';
import type { HttpContext } from '../http-context.js';
import { requestContext } from '../request-auth.js';
import { errors } from '../schemas.js';

const TokenResponse = Type.Object({
  access_token: Type.String({ description: 'JWT (EdDSA), verifiable with /.well-known/jwks.json' }),
  refresh_token: Type.String({ description: 'Opaque; good for one refresh. Presenting it twice ends the sign-in.' }),
  token_type: Type.Literal('Bearer'),
  expires_in: Type.Integer({ description: 'Seconds until the access token expires' }),
});

/** RFC 6749 §5.1 names; the sign-in answer adds its state. */
export const tokenResponse = (issued: IssuedTokens) => ({
  access_token: issued.accessToken,
  refresh_token: issued.refreshToken,
  token_type: 'Bearer' as const,
  expires_in: issued.expiresIn,
});

export const tokenSignInResponse = (issued: IssuedTokens) => ({ state: 'authenticated' as const, ...tokenResponse(issued) });

export const tokenRoutes = (ctx: HttpContext): FastifyPluginAsyncTypebox =>
  async function routes(app) {
    app.post(
      '/api/v1/token',
      {
        schema: {
          tags: ['tokens'],
          summary: 'Refresh: a new access token and a new refresh token for a refresh token (rotation; reuse ends the sign-in)',
          description:
            'Form-encoded (RFC 6749 §6) or JSON. Every refresh token works once; a used one presented again revokes its whole family and session (RFC 9700 §4.14.2). Of two concurrent refreshes with one token exactly one succeeds; the other gets invalid_grant and the family ends with it, so refresh from one place at a time.',
          body: Type.Object(
            {
              grant_type: Type.String({ maxLength: 64 }),
              refresh_token: Type.String({ minLength: 1, maxLength: 256 }),
            },
            { additionalProperties: false },
          ),
          response: { 200: TokenResponse, ...errors },
        },
      },
      async (request, reply) => {
        if (request.body.grant_type !== 'refresh_token') {
          throw new AppError('unsupported_grant_type', 'Only grant_type=refresh_token is supported here.');
        }
        const issued = await refreshTokens(ctx.deps, request.body.refresh_token, requestContext(request));
        // RFC 6749 §5.1: token responses must not be cached.
        reply.header('Cache-Control', 'no-store');
        return tokenResponse(issued);
      },
    );

    app.get(
      '/.well-known/jwks.json',
      {
        // A well-known document (RFC 8615), not part of the /api/v1 surface described in /openapi.json.
        schema: { hide: true },
      },
      async (_request, reply) => {
        // Short cache: a rotated key must reach verifiers well within an access token's lifetime.
        reply.header('Cache-Control', 'public, max-age=300');
        return ctx.deps.keyRing.jwks();
      },
    );
  };
