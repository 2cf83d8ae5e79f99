import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { adminOverview, OVERVIEW_RANGES, type OverviewRange } from '../../../admin/admin-overview.js';
import { effectivePolicy } from '../../../admin/admin-policy.js';
import type { HttpContext } from '../../http-context.js';
import { errors } from '../../schemas.js';
import { requireAdmin } from './admin-gate.js';
import { OverviewSchema } from './admin-schemas.js';
import { overviewView } from './admin-views.js';

const RangeQuery = Type.Object({
  range: Type.Union(
    Object.keys(OVERVIEW_RANGES).map((r) => Type.Literal(r)),
    { default: '24h' },
  ),
});

export const overviewRoutes = (ctx: HttpContext): FastifyPluginAsyncTypebox =>
  async function routes(app) {
    const preHandler = requireAdmin(ctx);

    app.get(
      '/api/v1/admin/overview',
      {
        preHandler,
        schema: {
          tags: ['admin'],
          summary: 'Sign-ins over time by outcome, active sessions, risk scores, top countries and networks, suspicious events',
          querystring: RangeQuery,
          response: { 200: OverviewSchema, ...errors },
        },
      },
      async (request) => overviewView(await adminOverview(ctx.deps, request.query.range as OverviewRange)),
    );

    app.get(
      '/api/v1/admin/policy',
      {
        preHandler,
        schema: {
          tags: ['admin'],
          summary: 'The effective configuration (lifetimes, access rules, thresholds), secrets masked; read-only',
          response: {
            200: Type.Object({
              config: Type.Record(Type.String(), Type.Unknown()),
              console: Type.Object({ admin_freshness_seconds: Type.Integer() }),
            }),
            ...errors,
          },
        },
      },
      async () => {
        const policy = effectivePolicy(ctx.deps);
        return {
          config: policy.config as Record<string, unknown>,
          console: { admin_freshness_seconds: policy.console.adminFreshnessMs / 1000 },
        };
      },
    );
  };
