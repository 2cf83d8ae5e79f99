import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { HttpContext } from '../http-context.js';

export const pageRoutes = (_ctx: HttpContext): FastifyPluginAsync => async () => {};

export function renderErrorPage(_request: FastifyRequest, reply: FastifyReply, status: number, message: string): FastifyReply {
  return reply.code(status).type('text/html; charset=utf-8').send(`<!doctype html><title>Error</title><p>${message.replace(/[<>&"]/g, '')}</p>`);
}
