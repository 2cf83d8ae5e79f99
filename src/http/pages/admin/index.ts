import type { FastifyPluginAsync } from 'fastify';
import type { HttpContext } from '../../http-context.js';
import { eventsPageRoutes } from './events-page.js';
import { overviewPageRoutes } from './overview-page.js';
import { policyPageRoutes } from './policy-page.js';
import { sessionsPageRoutes } from './sessions-page.js';
import { usersPageRoutes } from './users-page.js';

/** The admin console's pages under /admin, over the same use cases as the admin API (src/admin/). */
export const adminPageRoutes = (ctx: HttpContext): FastifyPluginAsync =>
  async function adminPages(app) {
    await app.register(overviewPageRoutes(ctx));
    await app.register(usersPageRoutes(ctx));
    await app.register(sessionsPageRoutes(ctx));
    await app.register(eventsPageRoutes(ctx));
    await app.register(policyPageRoutes(ctx));
  };
