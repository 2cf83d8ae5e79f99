import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { WEBHOOK_EVENT_TYPES } from '../../../core/webhooks/security-events.js';
import { addEndpoint, deliveryLog, listEndpoints, removeEndpoint, sendTestMessage } from '../../../webhooks/endpoints.js';
import type { HttpContext } from '../../http-context.js';
import { requestContext } from '../../request-auth.js';
import { errors } from '../../schemas.js';
import { requireAdmin } from './admin-gate.js';
import {
  CreatedWebhookSchema,
  NewWebhookBody,
  WebhookDeliverySchema,
  webhookDeliveryView,
  webhookEndpointView,
  WebhookSummarySchema,
  webhookSummaryView,
} from './webhook-schemas.js';

const EndpointParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });

/** Webhook endpoints and their delivery log (docs/webhooks.md); writes pass the CSRF guard like every admin write. */
export const webhookRoutes = (ctx: HttpContext): FastifyPluginAsyncTypebox =>
  async function routes(app) {
    const preHandler = requireAdmin(ctx);

    app.get(
      '/api/v1/admin/webhooks',
      {
        preHandler,
        schema: {
          tags: ['admin'],
          summary: 'Webhook endpoints with their delivery counts, and the event types one can subscribe to',
          response: {
            200: Type.Object({ endpoints: Type.Array(WebhookSummarySchema), event_types: Type.Array(Type.String()) }),
            ...errors,
          },
        },
      },
      async () => ({ endpoints: (await listEndpoints(ctx.deps)).map(webhookSummaryView), event_types: [...WEBHOOK_EVENT_TYPES] }),
    );

    app.post(
      '/api/v1/admin/webhooks',
      {
        preHandler,
        schema: {
          tags: ['admin'],
          summary: 'Add a webhook endpoint; the answer carries its signing secret, shown this once only',
          body: NewWebhookBody,
          response: { 201: CreatedWebhookSchema, ...errors },
        },
      },
      async (request, reply) => {
        const created = await addEndpoint(ctx.deps, request.body, requestContext(request));
        return reply.code(201).send({ endpoint: webhookEndpointView(created.endpoint), secret: created.secret });
      },
    );

    app.delete(
      '/api/v1/admin/webhooks/:id',
      {
        preHandler,
        schema: {
          tags: ['admin'],
          summary: 'Remove a webhook endpoint, with its queued deliveries and their log',
          params: EndpointParams,
          response: { 204: Type.Null(), ...errors },
        },
      },
      async (request, reply) => {
        await removeEndpoint(ctx.deps, request.params.id, requestContext(request));
        return reply.code(204).send(null);
      },
    );

    app.get(
      '/api/v1/admin/webhooks/:id/deliveries',
      {
        preHandler,
        schema: {
          tags: ['admin'],
          summary: "An endpoint's delivery log: latest deliveries first, each with every attempt (status code, error, duration)",
          params: EndpointParams,
          querystring: Type.Object({ limit: Type.Integer({ minimum: 1, maximum: 500, default: 50 }) }),
          response: { 200: Type.Object({ deliveries: Type.Array(WebhookDeliverySchema) }), ...errors },
        },
      },
      async (request) => ({
        deliveries: (await deliveryLog(ctx.deps, request.params.id, request.query.limit)).map(webhookDeliveryView),
      }),
    );

    app.post(
      '/api/v1/admin/webhooks/:id/test',
      {
        preHandler,
        schema: {
          tags: ['admin'],
          summary: 'Send a signed webhook.test message now and report the attempt (retried later like any delivery if it fails)',
          params: EndpointParams,
          response: { 200: Type.Object({ delivery: WebhookDeliverySchema }), ...errors },
        },
      },
      async (request) => ({ delivery: webhookDeliveryView(await sendTestMessage(ctx.deps, request.params.id)) }),
    );
  };
