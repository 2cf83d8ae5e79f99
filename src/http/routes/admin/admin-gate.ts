import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../../../auth/errors.js';
import { mustUsePasskey } from '../../../auth/phishing-resistant.js';
import { stepUpRequired } from '../../../auth/sensitive-actions.js';
import { adminAccess, adminRequirement } from '../../../core/admin/admin-access.js';
import type { HttpContext } from '../../http-context.js';
import { authOf, requireSession } from '../../request-auth.js';

/**
 * Every admin API route: a live two-factor session of an administrator whose second factor is
 * fresh. Anyone else gets 403 (401 without a session); a stale administrator gets the standard
 * 401 step_up_required, saying how to step up and retry.
 */
export function requireAdmin(ctx: HttpContext) {
  const sessionGate = requireSession(ctx.deps, ctx.cookies);
  return async function adminGate(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    await sessionGate(request, reply);
    const { user, session } = authOf(request);
    const maxAgeMs = ctx.deps.config.session.sensitiveMaxAgeMs;
    const passkey = mustUsePasskey(ctx.deps, user);
    const access = adminAccess(user.isAdmin, session, ctx.deps.clock.now(), maxAgeMs, passkey);
    if (access.kind === 'not_admin') throw new AppError('forbidden', 'Administrators only.');
    if (access.kind === 'step_up_required')
      throw await stepUpRequired(ctx.deps, user, access.decision, adminRequirement(maxAgeMs, passkey));
  };
}
