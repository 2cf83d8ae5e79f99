import { Type, type Static } from '@sinclair/typebox';
import type { Session } from '../core/session/session.js';
import type { User } from '../store/store.js';

/** Shapes shared by routes: their schemas validate requests, shape responses and make /openapi.json. */
export const ErrorSchema = Type.Object(
  {
    error: Type.Object(
      { code: Type.String({ description: 'Stable machine-readable code' }), message: Type.String({ description: 'For people' }) },
      { additionalProperties: true },
    ),
  },
  { $id: 'Error' },
);

export const errors = { '4xx': Type.Ref(ErrorSchema), '5xx': Type.Ref(ErrorSchema) };

const iso = (description: string) => Type.String({ format: 'date-time', description });

export const UserSummarySchema = Type.Object({
  id: Type.String(),
  username: Type.String(),
  display_name: Type.String(),
  is_admin: Type.Boolean(),
});

export const SessionSchema = Type.Object({
  id: Type.String({ description: 'Public session id (not the secret)' }),
  user: UserSummarySchema,
  kind: Type.Union([Type.Literal('full'), Type.Literal('enrollment')]),
  aal: Type.Integer({ description: 'Authenticator assurance level: 1 or 2' }),
  amr: Type.Array(Type.String(), { description: 'Methods used: pwd, otp (TOTP), rc (recovery code), hwk (passkey or security key)' }),
  factors: Type.Array(Type.Object({ method: Type.String(), at: iso('When this factor was last proven') })),
  auth_time: iso('When the user last authenticated'),
  created_at: iso('Sign-in time'),
  expires_at: iso('Absolute end of the session'),
  idle_expires_at: iso('End of the session unless it is used before'),
});

export const SessionListItemSchema = Type.Object({
  id: Type.String(),
  current: Type.Boolean(),
  kind: Type.String(),
  aal: Type.Integer(),
  ip: Type.String(),
  user_agent: Type.String(),
  browser: Type.String(),
  os: Type.String(),
  device: Type.String(),
  created_at: iso('Sign-in time'),
  last_seen_at: iso('Last activity (recorded at most once a minute)'),
  expires_at: iso('Absolute end'),
  idle_expires_at: iso('Idle end'),
});

export const LoginResponseSchema = Type.Object({
  state: Type.Union([Type.Literal('authenticated'), Type.Literal('second_factor_required'), Type.Literal('enrollment_required')]),
  methods: Type.Optional(Type.Array(Type.Union([Type.Literal('totp'), Type.Literal('recovery_code'), Type.Literal('webauthn')]))),
  expires_at: Type.Optional(iso('When the pending sign-in or session ends')),
  pending_token: Type.Optional(
    Type.String({ description: 'session_type "tokens": send it as `Authorization: Bearer` to /api/v1/login/second-factor' }),
  ),
  access_token: Type.Optional(Type.String({ description: 'session_type "tokens": a short-lived JWT (EdDSA)' })),
  refresh_token: Type.Optional(Type.String({ description: 'session_type "tokens": good for one POST /api/v1/token' })),
  token_type: Type.Optional(Type.Literal('Bearer')),
  expires_in: Type.Optional(Type.Integer({ description: 'Seconds until the access token expires' })),
});
export type LoginResponse = Static<typeof LoginResponseSchema>;

export const toIso = (ms: number): string => new Date(ms).toISOString();

export const userSummary = (user: User) => ({
  id: user.id,
  username: user.username,
  display_name: user.displayName,
  is_admin: user.isAdmin,
});

export const sessionView = (session: Session, user: User): Static<typeof SessionSchema> => ({
  id: session.id,
  user: userSummary(user),
  kind: session.kind,
  aal: session.aal,
  amr: session.amr.map((use) => use.method),
  factors: session.amr.map((use) => ({ method: use.method, at: toIso(use.at) })),
  auth_time: toIso(session.authTime),
  created_at: toIso(session.createdAt),
  expires_at: toIso(session.expiresAt),
  idle_expires_at: toIso(session.idleExpiresAt),
});
