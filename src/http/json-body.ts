import type { FastifyInstance } from 'fastify';

/**
 * JSON bodies with Fastify's own parser (prototype-poisoning checks included), except that an empty
 * body means no body: `fetch('/api/v1/logout', {method: 'POST', headers: {'content-type':
 * 'application/json'}})` is a normal call to an endpoint that reads nothing. A route that needs a
 * body still refuses the missing one through its schema.
 */
export function acceptEmptyJsonBodies(app: FastifyInstance): void {
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    if (body === '') {
      done(null, undefined);
      return;
    }
    parseJson(request, body as string, done);
  });
}
