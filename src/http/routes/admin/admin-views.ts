import { toExported } from '../../../admin/admin-events.js';
import type { Overview } from '../../../admin/admin-overview.js';
import type { UserDetail } from '../../../admin/admin-users.js';
import type { BehaviourBaseline } from '../../../core/admin/behaviour-baseline.js';
import type { Session } from '../../../core/session/session.js';
import type { AuditEvent, User } from '../../../store/store.js';
import { toIso } from '../../schemas.js';
import { describeUserAgent } from '../../user-agent.js';

/** Domain objects to the admin API's snake_case JSON. */

export const adminUserView = (u: User) => ({
  id: u.id,
  username: u.username,
  display_name: u.displayName,
  email: u.email,
  is_admin: u.isAdmin,
  disabled: u.disabled,
  created_at: toIso(u.createdAt),
});

export function adminSessionView(s: Session, username: string | null) {
  const { browser, os } = describeUserAgent(s.userAgent);
  return {
    id: s.id,
    user_id: s.userId,
    username,
    kind: s.kind,
    aal: s.aal,
    amr: s.amr.map((use) => use.method),
    ip: s.ip,
    user_agent: s.userAgent,
    browser,
    os,
    created_at: toIso(s.createdAt),
    last_seen_at: toIso(s.lastSeenAt),
    expires_at: toIso(s.expiresAt),
    idle_expires_at: toIso(s.idleExpiresAt),
    country: s.origin?.country ?? null,
    network: s.origin?.asn ? `AS${s.origin.asn}` : null,
    risk_band: s.origin?.riskBand ?? null,
    risk_score: s.origin?.riskScore ?? null,
  };
}

export const adminEventView = (e: AuditEvent, username: string | null = null) => toExported(e, username);

export const baselineView = (b: BehaviourBaseline) => ({
  source: b.source,
  sign_ins: b.signIns,
  countries: b.countries,
  networks: b.networks,
  devices: b.devices,
  heat_map: b.heatMap,
  first_seen: b.firstSeen === null ? null : toIso(b.firstSeen),
  last_seen: b.lastSeen === null ? null : toIso(b.lastSeen),
});

export const overviewView = (o: Overview) => ({
  range: o.range,
  since: toIso(o.since),
  until: toIso(o.until),
  sign_ins: { buckets: o.signIns.buckets.map(toIso), series: o.signIns.series },
  totals: o.totals,
  active_sessions: o.activeSessions,
  risk: o.risk,
  countries: o.countries,
  networks: o.networks,
  suspicious: o.suspicious.map((e) => adminEventView(e)),
});

export const userDetailView = (d: UserDetail) => ({
  user: adminUserView(d.user),
  factors: {
    totp: d.factors.totp ? { confirmed_at: toIso(d.factors.totp.confirmedAt) } : null,
    recovery_codes_left: d.factors.recoveryCodesLeft,
    factor_failures: d.factors.factorFailures,
    locked: d.factors.locked,
  },
  trusted_devices: d.trustedDevices.map((t) => ({
    label: t.label,
    ip: t.ip,
    location: t.location,
    last_used_at: toIso(t.lastUsedAt),
    expires_at: toIso(t.expiresAt),
  })),
  sessions: d.sessions.map((s) => adminSessionView(s, d.user.username)),
  events: d.events.map((e) => adminEventView(e, d.user.username)),
  baseline: baselineView(d.baseline),
  risk_decisions: d.riskDecisions.map((r) => ({
    at: toIso(r.at),
    ip: r.ip,
    score: r.score,
    band: r.band,
    decision: r.decision,
    reasons: r.reasons,
  })),
});

export const describeDevice = (userAgent: string): string => {
  const { browser, os } = describeUserAgent(userAgent);
  return `${browser.replace(/ \d+$/, '')} / ${os.replace(/ [\d.]+$/, '')}`;
};
