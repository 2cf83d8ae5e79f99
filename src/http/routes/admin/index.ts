import type { FastifyPluginAsync } from 'fastify';
import type { HttpContext } from '../../http-context.js';
import { eventRoutes } from './event-routes.js';
import { overviewRoutes } from './overview-routes.js';
import { adminSessionRoutes } from './session-routes.js';
import { userRoutes } from './user-routes.js';
import { webhookRoutes } from './webhook-routes.js';

/** The admin API under /api/v1/admin: administrators with a fresh second factor only (admin-gate.ts). */
export const adminRoutes = (ctx: HttpContext): FastifyPluginAsync =>
  async function admin(app) {
    await app.register(overviewRoutes(ctx));
    await app.register(userRoutes(ctx));
    await app.register(adminSessionRoutes(ctx));
    await app.register(eventRoutes(ctx));
    await app.register(webhookRoutes(ctx));
  };
