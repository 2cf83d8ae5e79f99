import type { Session } from '../../../core/session/session.js';
import { describeUserAgent } from '../../user-agent.js';
import { html, type SafeHtml } from '../html.js';
import { csrfField } from '../layout.js';
import { formatTime } from '../page-support.js';

/** The band the risk engine gave the opening sign-in, with its score; a dash when it was not judged. */
function riskCell(s: Session): SafeHtml {
  const band = s.origin?.riskBand;
  if (!band) return html`<span class="muted">—</span>`;
  const score = s.origin?.riskScore;
  return html`<span class="badge badge-risk-${band}" title="${score === null || score === undefined ? '' : `score ${score}`}"
    >${band.replace('_', ' ')}</span
  >`;
}

/** Live sessions with a Revoke button each; the form comes back to `returnTo` afterwards. */
export function sessionTable(
  sessions: Session[],
  usernames: Map<string, string>,
  csrfToken: string | undefined,
  returnTo: string,
  currentId: string,
): SafeHtml {
  if (!sessions.length) return html`<p class="empty">No live sessions match.</p>`;
  return html`<div class="table-wrap">
    <table class="data sessions-table">
      <thead>
        <tr>
          <th scope="col">User</th>
          <th scope="col">Device</th>
          <th scope="col">IP address</th>
          <th scope="col">Country</th>
          <th scope="col">Network</th>
          <th scope="col">Risk</th>
          <th scope="col">Factors</th>
          <th scope="col">Signed in</th>
          <th scope="col">Last seen</th>
          <th scope="col"><span class="visually-hidden">Action</span></th>
        </tr>
      </thead>
      <tbody>
        ${sessions.map((s) => {
          const ua = describeUserAgent(s.userAgent);
          const name = usernames.get(s.userId) ?? s.userId;
          const device = `${ua.browser} on ${ua.os}`;
          return html`<tr data-session-id="${s.id}">
            <td><a href="/admin/users/${s.userId}">${name}</a></td>
            <td>${device}${s.kind === 'enrollment' ? html` <span class="muted">· set-up only</span>` : null}</td>
            <td>${s.ip}</td>
            <td class="cell-country">${s.origin?.country ?? html`<span class="muted">—</span>`}</td>
            <td class="cell-network">${s.origin?.asn ? `AS${s.origin.asn}` : html`<span class="muted">—</span>`}</td>
            <td class="cell-risk">${riskCell(s)}</td>
            <td>${s.amr.map((u) => u.method).join(' + ')}</td>
            <td>${formatTime(s.createdAt)}</td>
            <td>${formatTime(s.lastSeenAt)}</td>
            <td class="cell-action">
              ${
                s.id === currentId
                  ? html`<span class="badge badge-current">This session</span>`
                  : html`<form method="post" action="/admin/sessions/${s.id}/revoke">
                      ${csrfField(csrfToken)}
                      <input type="hidden" name="return_to" value="${returnTo}" />
                      <button
                        type="submit"
                        class="button button-small button-danger"
                        aria-label="${`Revoke ${name}'s session on ${device}, ${s.ip}`}"
                      >
                        Revoke
                      </button>
                    </form>`
              }
            </td>
          </tr>`;
        })}
      </tbody>
    </table>
  </div>`;
}
