import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { effectivePolicy } from '../../../admin/admin-policy.js';
import { humanDuration, type ConfigValue } from '../../../core/admin/config-view.js';
import type { HttpContext } from '../../http-context.js';
import { html, type SafeHtml } from '../html.js';
import { card, requireAdminPage, sendAdminPage } from './admin-shell.js';

/** Settings shown first, under a heading of their own; everything else follows as it is. */
const SECTIONS: Array<[key: string, title: string]> = [
  ['session', 'Session lifetimes'],
  ['login', 'Sign-in'],
  ['rateLimit', 'Rate limits'],
  ['sessionByRisk', 'Session lifetimes by risk band'],
  ['risk', 'Risk engine'],
  ['riskPolicy', 'Risk policy'],
  ['rememberDevice', 'Remembered devices'],
  ['accessRules', 'Access rules'],
];

/** "idleTimeoutMs" → "idle timeout", with durations in words. */
const label = (key: string): string =>
  key
    .replace(/Ms$/, '')
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/_/g, ' ')
    .toLowerCase();

function value(v: ConfigValue, key: string): SafeHtml {
  if (v === null || v === '') return html`<span class="muted">not set</span>`;
  if (typeof v === 'number' && /Ms$/.test(key)) return html`${humanDuration(v)}`;
  if (Array.isArray(v)) {
    if (!v.length) return html`<span class="muted">none</span>`;
    return html`<ol>
      ${v.map((item) => html`<li>${value(item, key)}</li>`)}
    </ol>`;
  }
  if (typeof v === 'object') return tree(v);
  return html`${String(v)}`;
}

function tree(obj: { [key: string]: ConfigValue }): SafeHtml {
  return html`<dl>
    ${Object.entries(obj).map(
      ([k, v]) =>
        html`<dt>${label(k)}</dt>
          <dd>${value(v, k)}</dd>`,
    )}
  </dl>`;
}

export const policyPageRoutes = (ctx: HttpContext): FastifyPluginAsyncTypebox =>
  async function routes(app) {
    app.get('/admin/policy', { schema: { hide: true }, preHandler: requireAdminPage(ctx) }, async (request, reply) => {
      const { config, console } = effectivePolicy(ctx.deps);
      const all = config as { [key: string]: ConfigValue };
      const shown = SECTIONS.filter(([key]) => all[key] !== undefined);
      const rest = Object.fromEntries(Object.entries(all).filter(([key]) => !SECTIONS.some(([k]) => k === key)));
      const body = html`<h1>Policy in force</h1>
        <p class="lead">The effective configuration, read-only. Secrets show only whether they are set.</p>
        <div class="policy">
          ${shown.map(([key, title]) => card(`policy-${key}`, title, value(all[key]!, key)))}
          ${card('policy-console', 'Admin console', tree({ 'second factor freshnessMs': console.adminFreshnessMs }))}
          ${card('policy-rest', 'Everything else', tree(rest))}
        </div>`;
      return sendAdminPage(ctx, request, reply, { title: 'Policy', section: '/admin/policy', body });
    });
  };
