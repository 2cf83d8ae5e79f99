import { Type, type Static } from '@sinclair/typebox';

/** Shapes of the admin API: they validate, shape the answers and document /openapi.json. */

const iso = (description: string) => Type.String({ format: 'date-time', description });
const keyCount = Type.Array(Type.Object({ key: Type.String(), count: Type.Integer() }));

export const OutcomeSchema = Type.Union([Type.Literal('success'), Type.Literal('failure'), Type.Literal('info')]);

export const AdminEventSchema = Type.Object({
  id: Type.Integer({ description: 'Increasing id; the pagination cursor' }),
  at: iso('When it happened'),
  type: Type.String({ description: 'e.g. login.password, login.second_factor, session.revoked, risk.decision' }),
  outcome: OutcomeSchema,
  user_id: Type.Union([Type.String(), Type.Null()]),
  username: Type.Union([Type.String(), Type.Null()]),
  session_id: Type.Union([Type.String(), Type.Null()]),
  ip: Type.Union([Type.String(), Type.Null()]),
  user_agent: Type.Union([Type.String(), Type.Null()]),
  reason: Type.Union([Type.String(), Type.Null()]),
  detail: Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()]),
});

export const EventFilterQuery = Type.Object({
  type: Type.Optional(
    Type.String({ maxLength: 512, description: 'Comma-separated event types; "login.*" matches a prefix', pattern: '^[a-z0-9_.*,]*$' }),
  ),
  user: Type.Optional(Type.String({ maxLength: 128, description: 'Username or user id' })),
  ip: Type.Optional(Type.String({ maxLength: 64 })),
  outcome: Type.Optional(OutcomeSchema),
  since: Type.Optional(
    Type.String({ maxLength: 40, description: 'ISO 8601 date or date-time (UTC unless given), or a duration ago ("24h", "7d")' }),
  ),
  until: Type.Optional(Type.String({ maxLength: 40, description: 'Same forms as since; exclusive' })),
});
export type EventFilterQuery = Static<typeof EventFilterQuery>;

export const EventPageQuery = Type.Composite([
  EventFilterQuery,
  Type.Object({
    before: Type.Optional(Type.Integer({ minimum: 1, description: 'Cursor: next_cursor of the previous page' })),
    limit: Type.Integer({ minimum: 1, maximum: 500, default: 50 }),
  }),
]);

export const ExportQuery = Type.Composite([
  EventFilterQuery,
  Type.Object({ format: Type.Union([Type.Literal('jsonl'), Type.Literal('csv')], { default: 'jsonl' }) }),
]);

export const TimeSeriesSchema = Type.Object({
  buckets: Type.Array(iso('Bucket start')),
  series: Type.Object({
    success: Type.Array(Type.Integer()),
    second_factor_asked: Type.Array(Type.Integer()),
    denied: Type.Array(Type.Integer()),
    failed: Type.Array(Type.Integer()),
  }),
});

export const OverviewSchema = Type.Object({
  range: Type.String(),
  since: iso('Start of the period'),
  until: iso('End of the period'),
  sign_ins: TimeSeriesSchema,
  totals: Type.Object({
    success: Type.Integer(),
    second_factor_asked: Type.Integer(),
    denied: Type.Integer(),
    failed: Type.Integer(),
  }),
  active_sessions: Type.Integer(),
  risk: Type.Union([
    Type.Object({
      decisions: Type.Integer(),
      histogram: Type.Object({ labels: Type.Array(Type.String()), edges: Type.Array(Type.Number()), counts: Type.Array(Type.Integer()) }),
      bands: keyCount,
      reasons: keyCount,
    }),
    Type.Null({ description: 'No risk decision recorded in the period yet' }),
  ]),
  countries: keyCount,
  networks: keyCount,
  suspicious: Type.Array(AdminEventSchema),
});

export const AdminUserSchema = Type.Object({
  id: Type.String(),
  username: Type.String(),
  display_name: Type.String(),
  email: Type.Union([Type.String(), Type.Null()]),
  is_admin: Type.Boolean(),
  disabled: Type.Boolean(),
  created_at: iso('Account creation'),
});

export const AdminSessionSchema = Type.Object({
  id: Type.String(),
  user_id: Type.String(),
  username: Type.Union([Type.String(), Type.Null()]),
  kind: Type.String(),
  aal: Type.Integer(),
  amr: Type.Array(Type.String()),
  ip: Type.String(),
  user_agent: Type.String(),
  browser: Type.String(),
  os: Type.String(),
  created_at: iso('Sign-in time'),
  last_seen_at: iso('Last activity'),
  expires_at: iso('Absolute end'),
  idle_expires_at: iso('Idle end'),
  country: Type.Union([Type.String(), Type.Null()], { description: 'ISO country code of the sign-in that opened it; null: unknown' }),
  network: Type.Union([Type.String(), Type.Null()], { description: 'AS number of that sign-in ("AS29695"); null: unknown' }),
  risk_band: Type.Union([Type.String(), Type.Null()], { description: "The risk engine's band for that sign-in; null: not judged" }),
  risk_score: Type.Union([Type.Number(), Type.Null()]),
});

export const BaselineSchema = Type.Object({
  source: Type.Union([Type.Literal('risk_history'), Type.Literal('audit_trail')], {
    description: "risk_history: the risk engine's stored sign-ins (login_history); audit_trail: derived from events (fallback)",
  }),
  sign_ins: Type.Integer(),
  countries: keyCount,
  networks: keyCount,
  devices: keyCount,
  heat_map: Type.Array(Type.Array(Type.Integer()), { description: '7 rows (Monday first) of 24 hourly counts, UTC' }),
  first_seen: Type.Union([iso('First successful sign-in seen'), Type.Null()]),
  last_seen: Type.Union([iso('Last successful sign-in seen'), Type.Null()]),
});

export const RiskDecisionSchema = Type.Object({
  at: iso('When'),
  ip: Type.Union([Type.String(), Type.Null()]),
  score: Type.Number(),
  band: Type.String(),
  decision: Type.String(),
  reasons: Type.Array(Type.String()),
});

export const UserDetailSchema = Type.Object({
  user: AdminUserSchema,
  factors: Type.Object({
    totp: Type.Union([Type.Object({ confirmed_at: iso('Set up on') }), Type.Null()]),
    recovery_codes_left: Type.Integer(),
    factor_failures: Type.Integer(),
    locked: Type.Boolean(),
  }),
  trusted_devices: Type.Array(
    Type.Object({
      label: Type.String(),
      ip: Type.String(),
      location: Type.String(),
      last_used_at: iso('Last sign-in from it'),
      expires_at: iso('When it is forgotten'),
    }),
  ),
  sessions: Type.Array(AdminSessionSchema),
  events: Type.Array(AdminEventSchema),
  baseline: BaselineSchema,
  risk_decisions: Type.Array(RiskDecisionSchema),
});
