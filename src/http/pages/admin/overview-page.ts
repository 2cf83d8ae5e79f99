import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { usernamesOf } from '../../../admin/admin-events.js';
import { adminOverview, OVERVIEW_RANGES, type Overview, type OverviewRange } from '../../../admin/admin-overview.js';
import type { HttpContext } from '../../http-context.js';
import { html, type SafeHtml } from '../html.js';
import { barChart, card, countTable, requireAdminPage, sendAdminPage } from './admin-shell.js';
import { eventTable } from './event-table.js';

const OUTCOME_LABELS = {
  success: 'Signed in',
  second_factor_asked: 'Second factor asked',
  denied: 'Denied',
  failed: 'Failed',
} as const;

const pad = (n: number) => String(n).padStart(2, '0');

/** Bucket labels short enough for an axis: the hour for a day, the date (and hour) for longer. */
function bucketLabel(ms: number, range: OverviewRange): string {
  const d = new Date(ms);
  const day = `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
  if (range === '24h') return `${pad(d.getUTCHours())}:00`;
  if (range === '7d') return `${day.slice(5)} ${pad(d.getUTCHours())}h`;
  return day.slice(5);
}

function overviewBody(o: Overview, usernames: Map<string, string>): SafeHtml {
  const stats = [
    ['Active sessions', o.activeSessions],
    [OUTCOME_LABELS.success, o.totals.success],
    [OUTCOME_LABELS.second_factor_asked, o.totals.second_factor_asked],
    [OUTCOME_LABELS.denied, o.totals.denied],
    [OUTCOME_LABELS.failed, o.totals.failed],
  ] as const;
  const signInChart = barChart({
    id: 'chart-sign-ins',
    caption: 'Sign-ins over time (UTC)',
    stacked: true,
    labels: o.signIns.buckets.map((b) => bucketLabel(b, o.range)),
    datasets: (Object.keys(OUTCOME_LABELS) as Array<keyof typeof OUTCOME_LABELS>).map((key) => ({
      key,
      label: OUTCOME_LABELS[key],
      data: o.signIns.series[key],
    })),
  });
  const risk = o.risk
    ? html`${barChart({
          id: 'chart-risk',
          caption: `Risk scores of ${o.risk.decisions} decisions`,
          labels: o.risk.histogram.labels,
          datasets: [{ key: 'score', label: 'Decisions', data: o.risk.histogram.counts }],
        })}
        <div class="grid-2">
          ${countTable('Band', o.risk.bands, 'No bands recorded.')} ${countTable('Reason', o.risk.reasons, 'No reasons recorded.')}
        </div>`
    : html`<p class="empty" id="no-risk-data">No risk data yet: the risk engine has recorded no decision in this period.</p>`;
  return html`<h1>Overview</h1>
    <p>
      Period:
      ${(Object.keys(OVERVIEW_RANGES) as OverviewRange[]).map((r) =>
        r === o.range ? html`<strong>${r}</strong> ` : html`<a href="/admin?range=${r}">${r}</a> `,
      )}
    </p>
    <div class="stats">
      ${stats.map(([label, value]) => html`<div class="stat"><span class="stat-value">${value}</span><span class="stat-label">${label}</span></div>`)}
    </div>
    ${card('sign-ins-title', 'Sign-ins', signInChart)} ${card('risk-title', 'Risk score distribution', risk)}
    <div class="grid-2">
      ${card(
        'networks-title',
        'Top networks',
        o.networks.length
          ? barChart({
              id: 'chart-networks',
              caption: 'Sign-in steps by network',
              horizontal: true,
              labels: o.networks.map((n) => n.key),
              datasets: [{ key: 'count', label: 'Sign-in steps', data: o.networks.map((n) => n.count) }],
            })
          : html`<p class="empty">No sign-ins in this period.</p>`,
      )}
      ${card(
        'countries-title',
        'Top countries',
        countTable('Country', o.countries, 'No country known yet: countries appear once the risk engine records them.'),
      )}
    </div>
    ${card('suspicious-title', 'Recent suspicious events', eventTable(o.suspicious, usernames, 'Recent suspicious events'))}`;
}

export const overviewPageRoutes = (ctx: HttpContext): FastifyPluginAsyncTypebox =>
  async function routes(app) {
    app.get(
      '/admin',
      {
        schema: { hide: true, querystring: Type.Object({ range: Type.Optional(Type.String({ maxLength: 8 })) }) },
        preHandler: requireAdminPage(ctx),
      },
      async (request, reply) => {
        const asked = request.query.range;
        const range: OverviewRange = asked !== undefined && Object.hasOwn(OVERVIEW_RANGES, asked) ? (asked as OverviewRange) : '24h';
        const overview = await adminOverview(ctx.deps, range);
        const usernames = await usernamesOf(ctx.deps, overview.suspicious);
        return sendAdminPage(ctx, request, reply, { title: 'Overview', section: '/admin', body: overviewBody(overview, usernames) });
      },
    );
  };
