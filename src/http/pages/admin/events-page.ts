import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { searchEvents, usernamesOf } from '../../../admin/admin-events.js';
import { AppError } from '../../../auth/errors.js';
import type { HttpContext } from '../../http-context.js';
import { eventFilterOf } from '../../routes/admin/event-filter.js';
import { html, type SafeHtml } from '../html.js';
import { formError } from '../layout.js';
import { requireAdminPage, sendAdminPage } from './admin-shell.js';
import { eventTable } from './event-table.js';

const PAGE_SIZE = 50;

/** The page takes the API's filter, but reads every field as text so a bad one is shown, not refused. */
const EventsQuery = Type.Object({
  type: Type.Optional(Type.String({ maxLength: 512 })),
  user: Type.Optional(Type.String({ maxLength: 128 })),
  ip: Type.Optional(Type.String({ maxLength: 64 })),
  outcome: Type.Optional(Type.String({ maxLength: 16 })),
  since: Type.Optional(Type.String({ maxLength: 40 })),
  until: Type.Optional(Type.String({ maxLength: 40 })),
  before: Type.Optional(Type.String({ maxLength: 16 })),
});
type EventsQuery = (typeof EventsQuery)['static'];

const OUTCOMES = ['success', 'failure', 'info'] as const;
const FILTER_KEYS = ['type', 'user', 'ip', 'outcome', 'since', 'until'] as const;

function filterQueryString(query: EventsQuery, extra: Record<string, string> = {}): string {
  const params = new URLSearchParams();
  for (const key of FILTER_KEYS) {
    const value = query[key]?.trim();
    if (value) params.set(key, value);
  }
  for (const [k, v] of Object.entries(extra)) params.set(k, v);
  return params.toString();
}

function filterForm(query: EventsQuery, error: string | undefined): SafeHtml {
  const text = (name: (typeof FILTER_KEYS)[number], label: string, hint?: string) =>
    html`<div class="field">
      <label for="field-${name}">${label}</label>
      <input
        id="field-${name}"
        class="input"
        name="${name}"
        value="${query[name] ?? ''}"
        maxlength="128"
        ${hint ? html`placeholder="${hint}"` : null}
      />
    </div>`;
  return html`<form method="get" action="/admin/events" class="filters" role="search">
    ${formError('events-filter-error', error)} ${text('type', 'Type', 'login.*')} ${text('user', 'User')} ${text('ip', 'IP address')}
    <div class="field">
      <label for="field-outcome">Outcome</label>
      <select id="field-outcome" name="outcome" class="input">
        <option value="">any</option>
        ${OUTCOMES.map((o) => html`<option value="${o}" ${query.outcome === o ? html`selected` : null}>${o}</option>`)}
      </select>
    </div>
    ${text('since', 'Since', '24h or 2026-11-20')} ${text('until', 'Until', '2026-11-21T08:00')}
    <button type="submit" class="button">Filter</button>
  </form>`;
}

export const eventsPageRoutes = (ctx: HttpContext): FastifyPluginAsyncTypebox =>
  async function routes(app) {
    app.get(
      '/admin/events',
      { schema: { hide: true, querystring: EventsQuery }, preHandler: requireAdminPage(ctx) },
      async (request, reply) => {
        const query = request.query;
        let error: string | undefined;
        let body: SafeHtml;
        try {
          const outcome = query.outcome?.trim() || undefined;
          if (outcome !== undefined && !(OUTCOMES as readonly string[]).includes(outcome))
            throw new AppError('bad_request', 'Outcome must be success, failure or info.');
          const before = query.before && /^\d{1,15}$/.test(query.before) ? Number(query.before) : undefined;
          const filter = eventFilterOf({ ...query, outcome: outcome as (typeof OUTCOMES)[number] | undefined }, ctx.deps.clock.now());
          const page = await searchEvents(ctx.deps, filter, PAGE_SIZE, before);
          const usernames = await usernamesOf(ctx.deps, page.events);
          const filters = filterQueryString(query);
          body = html`${eventTable(page.events, usernames, 'Events')}
            <nav class="pager" aria-label="Pages">
              ${before !== undefined ? html`<a href="/admin/events${filters ? `?${filters}` : ''}">Newest</a>` : null}
              ${page.nextCursor !== null ? html`<a href="/admin/events?${filterQueryString(query, { before: String(page.nextCursor) })}" rel="next">Older events</a>` : null}
            </nav>`;
        } catch (err) {
          if (!(err instanceof AppError)) throw err;
          error = err.message;
          body = html``;
        }
        const exportQuery = filterQueryString(query);
        const content = html`<h1>Events</h1>
          ${filterForm(query, error)}
          <p>
            Export these events:
            <a id="export-csv" href="/api/v1/admin/events/export?${filterQueryString(query, { format: 'csv' })}" download>CSV</a> ·
            <a id="export-jsonl" href="/api/v1/admin/events/export?${filterQueryString(query, { format: 'jsonl' })}" download>JSON Lines</a>
            <span class="muted">(all matching events, newest first${exportQuery ? '' : ': the whole audit trail'})</span>
          </p>
          ${body}`;
        return sendAdminPage(ctx, request, reply, { title: 'Events', section: '/admin/events', body: content }, error ? 400 : 200);
      },
    );
  };
