import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { listTrustedDevices, revokeTrustedDevice } from '../../auth/trusted-devices.js';
import type { TrustedDevice } from '../../store/store.js';
import type { HttpContext } from '../http-context.js';
import { authOf, requestContext, requireSession } from '../request-auth.js';
import { errors, toIso } from '../schemas.js';

const DeviceSchema = Type.Object({
  id: Type.String(),
  label: Type.String({ description: 'Browser and OS when it was remembered, e.g. "Firefox 128 on Linux"' }),
  ip: Type.String(),
  location: Type.String({ description: '"City, CC" where it was remembered; empty when unknown' }),
  created_at: Type.String({ format: 'date-time' }),
  last_used_at: Type.String({ format: 'date-time' }),
  expires_at: Type.String({ format: 'date-time' }),
  current: Type.Boolean({ description: 'This is the browser making the request' }),
});

export const deviceView = (device: TrustedDevice, current: boolean) => ({
  id: device.id,
  label: device.label,
  ip: device.ip,
  location: device.location,
  created_at: toIso(device.createdAt),
  last_used_at: toIso(device.lastUsedAt),
  expires_at: toIso(device.expiresAt),
  current,
});

/** "Remember this device": list and forget the browsers that lower this account's sign-in risk. */
export const deviceRoutes = (ctx: HttpContext): FastifyPluginAsyncTypebox =>
  async function routes(app) {
    app.get(
      '/api/v1/devices',
      {
        preHandler: requireSession(ctx.deps, ctx.cookies),
        schema: {
          tags: ['account'],
          summary: 'My remembered devices',
          response: { 200: Type.Object({ devices: Type.Array(DeviceSchema) }), ...errors },
        },
      },
      async (request) => {
        const { user } = authOf(request);
        const devices = await listTrustedDevices(ctx.deps, user);
        return { devices: devices.map((d) => deviceView(d, false)) };
      },
    );

    app.delete(
      '/api/v1/devices/:id',
      {
        preHandler: requireSession(ctx.deps, ctx.cookies),
        schema: {
          tags: ['account'],
          summary: 'Forget a remembered device: its next sign-in is judged like any other',
          params: Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) }),
          response: { 204: Type.Null(), ...errors },
        },
      },
      async (request, reply) => {
        await revokeTrustedDevice(ctx.deps, authOf(request).user, request.params.id, requestContext(request));
        return reply.code(204).send(null);
      },
    );
  };
