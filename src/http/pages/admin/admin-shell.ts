import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../../../auth/errors.js';
import { mustUsePasskey } from '../../../auth/phishing-resistant.js';
import { adminAccess } from '../../../core/admin/admin-access.js';
import type { HttpContext } from '../../http-context.js';
import { authOf } from '../../request-auth.js';
import { html, type HtmlValue, type SafeHtml } from '../html.js';
import { requirePageSession, safeReturnTo, seeOther, sendPage } from '../page-support.js';

/** The console's sections, in the order of its navigation. */
const SECTIONS = [
  ['/admin', 'Overview'],
  ['/admin/users', 'Users'],
  ['/admin/sessions', 'Sessions'],
  ['/admin/events', 'Events'],
  ['/admin/policy', 'Policy'],
] as const;
export type AdminSection = (typeof SECTIONS)[number][0];

/**
 * The page gate of the console: sign in first (then come back), administrators only (403 for
 * anyone else), and a second factor proven in the last minutes (else the step-up page, then back).
 */
export function requireAdminPage(ctx: HttpContext) {
  const sessionGate = requirePageSession(ctx);
  return async function adminPageGate(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> {
    const redirected = await sessionGate(request, reply);
    if (redirected) return redirected;
    const { user, session } = authOf(request);
    const passkey = mustUsePasskey(ctx.deps, user);
    const access = adminAccess(user.isAdmin, session, ctx.deps.clock.now(), ctx.deps.config.session.sensitiveMaxAgeMs, passkey);
    if (access.kind === 'not_admin') throw new AppError('forbidden', 'The admin console is for administrators only.');
    if (access.kind === 'step_up_required') {
      const back = request.method === 'GET' ? safeReturnTo(request.url) : undefined;
      return seeOther(reply, back ? `/step-up?return_to=${encodeURIComponent(back)}` : '/step-up');
    }
    return undefined;
  };
}

export function sendAdminPage(
  ctx: HttpContext,
  request: FastifyRequest,
  reply: FastifyReply,
  page: { title: string; section: AdminSection; body: SafeHtml },
  status = 200,
): FastifyReply {
  const { user } = authOf(request);
  const csrfToken = ctx.cookies.csrfToken(request);
  return sendPage(
    reply,
    {
      title: `${page.title} · admin`,
      wide: true,
      account: { username: user.username, csrfToken },
      styles: ['admin.css'],
      scripts: ['chart.umd.min.js', 'admin.js'],
      body: html`<nav aria-label="Admin console">
          <ul class="admin-nav">
            ${SECTIONS.map(
              ([href, label]) => html`<li><a href="${href}" ${href === page.section ? html`aria-current="page"` : null}>${label}</a></li>`,
            )}
            <li><a href="/account">My account</a></li>
          </ul>
        </nav>
        ${page.body}`,
    },
    status,
  );
}

export interface ChartDataset {
  key: string;
  label: string;
  data: number[];
}

/**
 * A bar chart drawn by admin.js from the data-chart attribute, with the same numbers in a table
 * for keyboards, screen readers and browsers without scripts.
 */
export function barChart(spec: {
  id: string;
  caption: string;
  labels: string[];
  datasets: ChartDataset[];
  stacked?: boolean;
  horizontal?: boolean;
}): SafeHtml {
  const data = JSON.stringify({
    kind: spec.stacked ? 'stacked-bar' : 'bar',
    horizontal: spec.horizontal ?? false,
    labels: spec.labels,
    datasets: spec.datasets,
  });
  return html`<figure class="chart" id="${spec.id}">
    <figcaption><h3>${spec.caption}</h3></figcaption>
    <div class="chart-box"><canvas role="img" aria-label="${spec.caption}" data-chart="${data}"></canvas></div>
    <details>
      <summary>Show the numbers</summary>
      <div class="table-wrap">
        <table class="data">
          <thead>
            <tr>
              <th scope="col"></th>
              ${spec.datasets.map((d) => html`<th scope="col">${d.label}</th>`)}
            </tr>
          </thead>
          <tbody>
            ${spec.labels.map(
              (label, i) =>
                html`<tr>
                  <th scope="row">${label}</th>
                  ${spec.datasets.map((d) => html`<td class="num">${d.data[i] ?? 0}</td>`)}
                </tr>`,
            )}
          </tbody>
        </table>
      </div>
    </details>
  </figure>`;
}

/** A two-column table of counts ("203.0.113.0/24 — 12"), or a sentence when there is nothing. */
export function countTable(caption: string, rows: Array<{ key: string; count: number }>, empty: string): SafeHtml {
  if (!rows.length) return html`<p class="empty">${empty}</p>`;
  return html`<table class="data">
    <caption class="visually-hidden">
      ${caption}
    </caption>
    <thead>
      <tr>
        <th scope="col">${caption}</th>
        <th scope="col">Count</th>
      </tr>
    </thead>
    <tbody>
      ${rows.map(
        (r) =>
          html`<tr>
            <td>${r.key}</td>
            <td class="num">${r.count}</td>
          </tr>`,
      )}
    </tbody>
  </table>`;
}

export const card = (id: string, title: string, ...content: HtmlValue[]): SafeHtml =>
  html`<section class="card" aria-labelledby="${id}">
    <h2 id="${id}">${title}</h2>
    ${content}
  </section>`;
