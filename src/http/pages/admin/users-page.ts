import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { revokeUserSessions } from '../../../admin/admin-sessions.js';
import { searchUsers, userDetail, type UserDetail } from '../../../admin/admin-users.js';
import type { HttpContext } from '../../http-context.js';
import { authOf, requestContext } from '../../request-auth.js';
import { describeDevice } from '../../routes/admin/admin-views.js';
import { html, type SafeHtml } from '../html.js';
import { csrfField, notice } from '../layout.js';
import { formatTime, seeOther } from '../page-support.js';
import { card, countTable, requireAdminPage, sendAdminPage } from './admin-shell.js';
import { eventTable } from './event-table.js';
import { sessionTable } from './session-table.js';

const DAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];

/** Five shades: none, then quarters of the busiest hour. */
const shade = (count: number, max: number): number => (count === 0 ? 0 : Math.min(4, Math.ceil((count / max) * 4)));

/** The sign-in hours as a table (days × hours, UTC): readable as numbers, coloured by class. */
function heatMap(cells: number[][]): SafeHtml {
  const max = Math.max(1, ...cells.flat());
  return html`<div class="table-wrap">
    <table class="heat-map" id="heat-map">
      <caption class="visually-hidden">
        Successful sign-ins by day of week and hour (UTC)
      </caption>
      <thead>
        <tr>
          <th scope="col"><span class="visually-hidden">Day</span></th>
          ${cells[0]!.map((_, hour) => html`<th scope="col">${hour % 3 === 0 ? String(hour).padStart(2, '0') : ''}</th>`)}
        </tr>
      </thead>
      <tbody>
        ${cells.map(
          (row, day) =>
            html`<tr>
              <th scope="row">${DAYS[day]}</th>
              ${row.map(
                (count, hour) =>
                  html`<td class="heat-${shade(count, max)}" title="${`${DAYS[day]} ${String(hour).padStart(2, '0')}:00 UTC: ${count}`}">
                    ${count || ''}
                  </td>`,
              )}
            </tr>`,
        )}
      </tbody>
    </table>
  </div>`;
}

function userDetailBody(d: UserDetail, csrfToken: string | undefined, currentId: string, done: string | undefined): SafeHtml {
  const u = d.user;
  const self = `/admin/users/${u.id}`;
  const usernames = new Map([[u.id as string, u.username]]);
  const factors = html`<ul>
    <li>Authenticator app: ${d.factors.totp ? `set up on ${formatTime(d.factors.totp.confirmedAt)}` : 'none'}</li>
    <li>Recovery codes left: ${d.factors.recoveryCodesLeft}</li>
    <li>
      Consecutive failed codes:
      ${d.factors.factorFailures}${d.factors.locked ? html` <strong class="outcome-failure">locked</strong>` : null}
    </li>
    <li>
      Remembered devices:
      ${
        d.trustedDevices.length
          ? html`<ul>
              ${d.trustedDevices.map(
                (t) =>
                  html`<li>
                    ${t.label} · ${t.ip}${t.location ? ` (${t.location})` : ''} · last used ${formatTime(t.lastUsedAt)} · until
                    ${formatTime(t.expiresAt)}
                  </li>`,
              )}
            </ul>`
          : 'none'
      }
    </li>
  </ul>`;
  const b = d.baseline;
  const risk = d.riskDecisions.length
    ? html`<table class="data">
        <thead>
          <tr>
            <th scope="col">When</th>
            <th scope="col">Score</th>
            <th scope="col">Band</th>
            <th scope="col">Decision</th>
            <th scope="col">Reasons</th>
          </tr>
        </thead>
        <tbody>
          ${d.riskDecisions.map(
            (r) =>
              html`<tr>
                <td>${formatTime(r.at)}</td>
                <td class="num">${r.score}</td>
                <td>${r.band}</td>
                <td>${r.decision}</td>
                <td>${r.reasons.join('; ')}</td>
              </tr>`,
          )}
        </tbody>
      </table>`
    : html`<p class="empty">No risk data yet for this user.</p>`;
  return html`<h1>${u.username}</h1>
    <p class="lead">
      ${u.displayName}${u.email ? ` · ${u.email}` : ''} · ${u.isAdmin ? 'administrator' : 'user'}${u.disabled ? ' · disabled' : ''} ·
      account created ${formatTime(u.createdAt)}
    </p>
    ${notice(done)} ${card('factors-title', 'Factors', factors)}
    ${card(
      'user-sessions-title',
      `Live sessions (${d.sessions.length})`,
      sessionTable(d.sessions, usernames, csrfToken, self, currentId),
      d.sessions.length
        ? html`<form method="post" action="${self}/sessions/revoke" class="section-action">
            ${csrfField(csrfToken)}
            <button type="submit" class="button button-danger">Revoke all sessions of ${u.username}</button>
          </form>`
        : null,
    )}
    ${card(
      'baseline-title',
      'Behaviour baseline',
      html`<p>
          From ${b.signIns} successful
          sign-in${b.signIns === 1 ? '' : 's'}${b.firstSeen !== null ? html`, ${formatTime(b.firstSeen)} to ${formatTime(b.lastSeen!)}` : null}.
          <span class="muted" data-baseline-source="${b.source}"
            >${b.source === 'risk_history' ? "From the risk engine's sign-in history." : 'Derived from the audit trail.'}</span
          >
        </p>
        <div class="grid-2">
          <div>
            <h3>Usual networks</h3>
            ${countTable('Network', b.networks, 'None yet.')}
          </div>
          <div>
            <h3>Usual devices</h3>
            ${countTable('Device', b.devices, 'None yet.')}
          </div>
          <div>
            <h3>Usual countries</h3>
            ${countTable('Country', b.countries, 'No country known yet.')}
          </div>
        </div>
        <h3>Sign-in hours</h3>
        ${heatMap(b.heatMap)}`,
    )}
    ${card('risk-title', 'Recent risk decisions', risk)}
    ${card(
      'user-events-title',
      'Recent events',
      eventTable(d.events, usernames, `Recent events of ${u.username}`),
      html`<p><a href="/admin/events?user=${encodeURIComponent(u.username)}">All events of ${u.username}</a></p>`,
    )}`;
}

function userListBody(users: Awaited<ReturnType<typeof searchUsers>>, q: string): SafeHtml {
  return html`<h1>Users</h1>
    <form method="get" action="/admin/users" class="filters" role="search">
      <div class="field">
        <label for="field-q">Username or name contains</label>
        <input id="field-q" class="input" name="q" type="search" value="${q}" maxlength="128" />
      </div>
      <button type="submit" class="button">Search</button>
    </form>
    ${
      users.length
        ? html`<div class="table-wrap">
            <table class="data users-table">
              <thead>
                <tr>
                  <th scope="col">Username</th>
                  <th scope="col">Name</th>
                  <th scope="col">Role</th>
                  <th scope="col">Status</th>
                  <th scope="col">Created</th>
                </tr>
              </thead>
              <tbody>
                ${users.map(
                  (u) =>
                    html`<tr>
                      <td><a href="/admin/users/${u.id}">${u.username}</a></td>
                      <td>${u.displayName}</td>
                      <td>${u.isAdmin ? 'administrator' : 'user'}</td>
                      <td>${u.disabled ? 'disabled' : 'active'}</td>
                      <td>${formatTime(u.createdAt)}</td>
                    </tr>`,
                )}
              </tbody>
            </table>
          </div>`
        : html`<p class="empty">No user matches.</p>`
    }`;
}

const UserParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });

export const usersPageRoutes = (ctx: HttpContext): FastifyPluginAsyncTypebox =>
  async function routes(app) {
    const preHandler = requireAdminPage(ctx);

    app.get(
      '/admin/users',
      { schema: { hide: true, querystring: Type.Object({ q: Type.String({ maxLength: 128, default: '' }) }) }, preHandler },
      async (request, reply) => {
        const users = await searchUsers(ctx.deps, request.query.q);
        return sendAdminPage(ctx, request, reply, { title: 'Users', section: '/admin/users', body: userListBody(users, request.query.q) });
      },
    );

    app.get(
      '/admin/users/:id',
      {
        schema: { hide: true, params: UserParams, querystring: Type.Object({ revoked: Type.Optional(Type.String({ maxLength: 6 })) }) },
        preHandler,
      },
      async (request, reply) => {
        const detail = await userDetail(ctx.deps, request.params.id, describeDevice);
        const revoked = request.query.revoked;
        const done = revoked !== undefined && /^\d{1,5}$/.test(revoked) ? `${revoked} session(s) revoked.` : undefined;
        const body = userDetailBody(detail, ctx.cookies.csrfToken(request), authOf(request).session.id, done);
        return sendAdminPage(ctx, request, reply, { title: detail.user.username, section: '/admin/users', body });
      },
    );

    app.post(
      '/admin/users/:id/sessions/revoke',
      {
        schema: { hide: true, params: UserParams, body: Type.Object({ _csrf: Type.Optional(Type.String({ maxLength: 128 })) }) },
        preHandler,
      },
      async (request, reply) => {
        const count = await revokeUserSessions(ctx.deps, request.params.id, requestContext(request));
        return seeOther(reply, `/admin/users/${encodeURIComponent(request.params.id)}?revoked=${count}`);
      },
    );
  };
