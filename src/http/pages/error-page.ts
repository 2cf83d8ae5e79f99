import type { FastifyReply, FastifyRequest } from 'fastify';
import { html } from './html.js';
import { sendPage } from './page-support.js';

const TITLES: Record<number, string> = {
  400: 'Bad request',
  401: 'Not signed in',
  403: 'Not allowed',
  404: 'Page not found',
  405: 'Not possible here',
  409: 'Conflict',
  410: 'Gone',
  413: 'Too large',
  414: 'Address too long',
  415: 'Unsupported form',
  429: 'Too many attempts',
  500: 'Something went wrong',
  503: 'Unavailable',
};

/** The page the global error handler shows for browser requests: what happened, and a way back. */
export function renderErrorPage(_request: FastifyRequest, reply: FastifyReply, status: number, message: string): FastifyReply {
  const title = TITLES[status] ?? (status >= 500 ? 'Something went wrong' : 'Request refused');
  return sendPage(
    reply,
    {
      title,
      body: html`<section class="card card-narrow error-page">
        <p class="status-code">Error ${status}</p>
        <h1>${title}</h1>
        <p>${message}</p>
        <p><a class="button button-primary" href="/">Go to the start page</a></p>
      </section>`,
    },
    status,
  );
}
