import type { FastifyPluginAsync } from 'fastify';
import { authenticate } from '../../auth/sessions.js';
import type { HttpContext } from '../http-context.js';
import { accountPageRoutes } from './account-page.js';
import { assetRoutes } from './assets.js';
import { enrollPageRoutes } from './enroll-page.js';
import { loginPageRoutes } from './login-page.js';
import { resetPasswordPageRoutes } from './reset-password-page.js';
import { seeOther } from './page-support.js';
import { secondFactorPageRoutes } from './second-factor-page.js';
import { setupPageRoutes } from './setup-page.js';
import { passkeyAssetRoutes } from './passkey-assets.js';
import { passkeyPageRoutes } from './passkey-pages.js';
import { stepUpPageRoutes } from './step-up-page.js';

export { renderErrorPage } from './error-page.js';

/**
 * The server-rendered pages: plain HTML forms over the same use cases as the JSON API. Each page
 * posts to itself and answers 303 on success (Post/Redirect/Get).
 */
export const pageRoutes = (ctx: HttpContext): FastifyPluginAsync =>
  async function pages(app) {
    await app.register(assetRoutes());
    await app.register(setupPageRoutes(ctx));
    await app.register(loginPageRoutes(ctx));
    await app.register(resetPasswordPageRoutes(ctx));
    await app.register(secondFactorPageRoutes(ctx));
    await app.register(stepUpPageRoutes(ctx));
    await app.register(enrollPageRoutes(ctx));
    await app.register(accountPageRoutes(ctx));
    await app.register(passkeyAssetRoutes());
    await app.register(passkeyPageRoutes(ctx));

    app.get('/', { schema: { hide: true } }, async (request, reply) => {
      const auth = await authenticate(ctx.deps, ctx.cookies.sessionToken(request));
      if (auth.kind !== 'authenticated') return seeOther(reply, '/login');
      return seeOther(reply, auth.session.kind === 'enrollment' ? '/enroll' : '/account');
    });
  };
