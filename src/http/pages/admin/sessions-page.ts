import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { asnOf, revokeAnySession, searchSessions } from '../../../admin/admin-sessions.js';
import type { RiskBand } from '../../../core/risk/policy.js';
import type { HttpContext } from '../../http-context.js';
import { authOf, requestContext } from '../../request-auth.js';
import { html } from '../html.js';
import { notice } from '../layout.js';
import { safeReturnTo, seeOther } from '../page-support.js';
import { requireAdminPage, sendAdminPage } from './admin-shell.js';
import { sessionTable } from './session-table.js';

const SessionsQuery = Type.Object({
  user: Type.Optional(Type.String({ maxLength: 128 })),
  ip: Type.Optional(Type.String({ maxLength: 64 })),
  country: Type.Optional(Type.String({ maxLength: 8 })),
  network: Type.Optional(Type.String({ maxLength: 16 })),
  risk: Type.Optional(Type.String({ maxLength: 16 })),
  done: Type.Optional(Type.String({ maxLength: 16 })),
});

const BANDS: readonly RiskBand[] = ['low', 'medium', 'high', 'very_high'];
const BAND_LABELS: Record<RiskBand, string> = { low: 'Low', medium: 'Medium', high: 'High', very_high: 'Very high' };

export const sessionsPageRoutes = (ctx: HttpContext): FastifyPluginAsyncTypebox =>
  async function routes(app) {
    const preHandler = requireAdminPage(ctx);

    app.get('/admin/sessions', { schema: { hide: true, querystring: SessionsQuery }, preHandler }, async (request, reply) => {
      const user = request.query.user?.trim() ?? '';
      const ip = request.query.ip?.trim() ?? '';
      const country = request.query.country?.trim().toUpperCase() ?? '';
      const network = request.query.network?.trim() ?? '';
      const risk = BANDS.find((b) => b === request.query.risk);
      // A filter the form cannot mean is said so, not turned into an error page or ignored silently.
      const problems = [
        country && !/^[A-Z]{2}$/.test(country) ? 'Country: give a two-letter code such as PT.' : null,
        network && asnOf(network) === null ? 'Network: give an AS number such as AS29695.' : null,
      ].filter((p): p is string => p !== null);
      const { sessions, users } = problems.length
        ? { sessions: [], users: new Map() }
        : await searchSessions(ctx.deps, {
            user: user || undefined,
            ip: ip || undefined,
            country: country || undefined,
            network: network || undefined,
            risk: risk ? [risk] : undefined,
          });
      const usernames = new Map([...users].map(([id, u]) => [id, u.username]));
      const here = request.url;
      const body = html`<h1>Sessions</h1>
        ${notice(request.query.done === 'revoked' ? 'The session was revoked: its next request must sign in again.' : undefined)}
        <form method="get" action="/admin/sessions" class="filters" role="search">
          <div class="field">
            <label for="field-user">User</label>
            <input id="field-user" class="input" name="user" value="${user}" maxlength="128" />
          </div>
          <div class="field">
            <label for="field-ip">IP address</label>
            <input id="field-ip" class="input" name="ip" value="${ip}" maxlength="64" aria-describedby="field-ip-hint" />
          </div>
          <div class="field">
            <label for="field-country">Country</label>
            <input id="field-country" class="input" name="country" value="${country}" maxlength="8" placeholder="PT" />
          </div>
          <div class="field">
            <label for="field-network">Network</label>
            <input id="field-network" class="input" name="network" value="${network}" maxlength="16" placeholder="AS29695" />
          </div>
          <div class="field">
            <label for="field-risk">Risk</label>
            <select id="field-risk" name="risk" class="input">
              <option value="">any</option>
              ${BANDS.map((b) => html`<option value="${b}" ${risk === b ? html`selected` : null}>${BAND_LABELS[b]}</option>`)}
            </select>
          </div>
          <button type="submit" class="button">Filter</button>
        </form>
        <p class="hint" id="field-ip-hint">An exact address, or a prefix ending in * (203.0.113.*).</p>
        ${problems.map((p) => html`<p class="form-error" role="alert">${p}</p>`)}
        <p>${sessions.length} live session${sessions.length === 1 ? '' : 's'}.</p>
        ${sessionTable(sessions, usernames, ctx.cookies.csrfToken(request), here, authOf(request).session.id)}`;
      return sendAdminPage(ctx, request, reply, { title: 'Sessions', section: '/admin/sessions', body });
    });

    app.post(
      '/admin/sessions/:id/revoke',
      {
        schema: {
          hide: true,
          params: Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) }),
          body: Type.Object({
            _csrf: Type.Optional(Type.String({ maxLength: 128 })),
            return_to: Type.Optional(Type.String({ maxLength: 1024 })),
          }),
        },
        preHandler,
      },
      async (request, reply) => {
        await revokeAnySession(ctx.deps, request.params.id, requestContext(request));
        const back = safeReturnTo(request.body.return_to);
        if (back?.startsWith('/admin/sessions')) {
          const url = new URL(back, 'http://x');
          url.searchParams.set('done', 'revoked');
          return seeOther(reply, `${url.pathname}${url.search}`);
        }
        return seeOther(reply, back?.startsWith('/admin/') ? back : '/admin/sessions?done=revoked');
      },
    );
  };
