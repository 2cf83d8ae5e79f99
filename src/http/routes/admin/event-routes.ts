import { Readable } from 'node:stream';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { exportEvents, searchEvents, usernamesOf } from '../../../admin/admin-events.js';
import type { HttpContext } from '../../http-context.js';
import { errors } from '../../schemas.js';
import { requireAdmin } from './admin-gate.js';
import { AdminEventSchema, EventPageQuery, ExportQuery } from './admin-schemas.js';
import { adminEventView } from './admin-views.js';
import { eventFilterOf } from './event-filter.js';

const CONTENT_TYPES = { jsonl: 'application/x-ndjson; charset=utf-8', csv: 'text/csv; charset=utf-8' } as const;

export const eventRoutes = (ctx: HttpContext): FastifyPluginAsyncTypebox =>
  async function routes(app) {
    const preHandler = requireAdmin(ctx);

    app.get(
      '/api/v1/admin/events',
      {
        preHandler,
        schema: {
          tags: ['admin'],
          summary: 'The audit trail of every user, newest first, filtered; paginated by cursor',
          querystring: EventPageQuery,
          response: {
            200: Type.Object({
              events: Type.Array(AdminEventSchema),
              next_cursor: Type.Union([Type.Integer(), Type.Null()], { description: 'Pass as before= for the next page' }),
            }),
            ...errors,
          },
        },
      },
      async (request) => {
        const filter = eventFilterOf(request.query, ctx.deps.clock.now());
        const page = await searchEvents(ctx.deps, filter, request.query.limit, request.query.before);
        const names = await usernamesOf(ctx.deps, page.events);
        return {
          events: page.events.map((e) => adminEventView(e, e.userId ? (names.get(e.userId) ?? null) : null)),
          next_cursor: page.nextCursor,
        };
      },
    );

    app.get(
      '/api/v1/admin/events/export',
      {
        preHandler,
        schema: {
          tags: ['admin'],
          summary: 'Export the matching events, newest first, streamed as JSON Lines or CSV (RFC 4180, header row)',
          querystring: ExportQuery,
          response: {
            200: {
              description: 'One event per line (same fields as GET /api/v1/admin/events)',
              content: { 'application/x-ndjson': { schema: Type.String() }, 'text/csv': { schema: Type.String() } },
            },
            ...errors,
          },
        },
      },
      async (request, reply) => {
        const filter = eventFilterOf(request.query, ctx.deps.clock.now());
        const format = request.query.format;
        const stamp = new Date(ctx.deps.clock.now()).toISOString().replace(/[:.]/g, '-');
        return (
          reply
            .type(CONTENT_TYPES[format])
            .header('content-disposition', `attachment; filename="twofold-events-${stamp}.${format}"`)
            // A stream is sent as it is read; the typed reply only knows the documented string body.
            .send(Readable.from(exportEvents(ctx.deps, filter, format)) as unknown as string)
        );
      },
    );
  };
