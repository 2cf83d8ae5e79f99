import type { AuditEvent } from '../../../store/store.js';
import { html, type SafeHtml } from '../html.js';
import { formatTime } from '../page-support.js';
import { describeSecurityEvent } from '../security-events.js';

/** Events as the console lists them: time, plain words, the user, where from, the raw type. */
export function eventTable(events: AuditEvent[], usernames: Map<string, string>, caption: string): SafeHtml {
  if (!events.length) return html`<p class="empty">No events match.</p>`;
  return html`<div class="table-wrap">
    <table class="data events-table">
      <caption class="visually-hidden">
        ${caption}
      </caption>
      <thead>
        <tr>
          <th scope="col">When</th>
          <th scope="col">What</th>
          <th scope="col">User</th>
          <th scope="col">IP address</th>
          <th scope="col">Type</th>
          <th scope="col">Outcome</th>
        </tr>
      </thead>
      <tbody>
        ${events.map((e) => {
          const name = e.userId ? (usernames.get(e.userId) ?? e.userId) : '';
          return html`<tr data-event-id="${e.id ?? ''}">
            <td>${formatTime(e.at)}</td>
            <td>${describeSecurityEvent(e)}${e.reason ? html` <span class="muted">(${e.reason})</span>` : null}</td>
            <td>${e.userId ? html`<a href="/admin/users/${e.userId}">${name}</a>` : html`<span class="muted">—</span>`}</td>
            <td>${e.ip ?? ''}</td>
            <td><code>${e.type}</code></td>
            <td class="${e.outcome === 'failure' ? 'outcome-failure' : ''}">${e.outcome}</td>
          </tr>`;
        })}
      </tbody>
    </table>
  </div>`;
}
