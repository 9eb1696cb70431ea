import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { commonErrorResponses, problemSchema } from '../../platform/http/problems.ts';
import { changeContextFrom } from '../../platform/http/request-context.ts';
import type { RolesService } from '../roles/roles.service.ts';
import { newPassword, toUserResponse, userResponseSchema } from '../users/users.schema.ts';
import type { AuthService } from './auth.service.ts';

const tokenPairSchema = z
  .object({
    access_token: z.string(),
    token_type: z.literal('bearer'),
    expires_in: z.number().int().describe('Seconds until the access token expires'),
    refresh_token: z.string().describe('Single use: each refresh returns a new one'),
    refresh_expires_in: z.number().int(),
    must_change_password: z.boolean(),
  })
  .meta({ id: 'TokenPair' });

const tags = ['Auth'];

export function authRoutes(auth: AuthService, roles: RolesService, loginPerMinute: number) {
  return async (instance: FastifyInstance) => {
    const app = instance.withTypeProvider<ZodTypeProvider>();

    app.post(
      '/auth/login',
      {
        config: {
          access: 'public',
          audit: { action: 'LOGIN', resource: 'SESSION' },
          rateLimit: { max: loginPerMinute, timeWindow: 60_000 },
        },
        schema: {
          tags,
          summary: 'Sign in with e-mail and password',
          description:
            'After repeated failures the address is locked for a while (423 with Retry-After), whether or not an account has it.',
          body: z.strictObject({
            email: z.string().trim().min(1).max(254),
            password: z.string().min(1).max(256),
          }),
          response: {
            200: tokenPairSchema,
            400: problemSchema,
            401: problemSchema,
            423: problemSchema,
            429: problemSchema,
          },
        },
      },
      async (request) => {
        // A failed attempt is audited with the address tried (never the password).
        request.auditOrigin = { userEmail: request.body.email.toLowerCase().slice(0, 254) };
        const { tokens } = await auth.login(
          request.body.email,
          request.body.password,
          changeContextFrom(request),
        );
        return tokens;
      },
    );

    app.post(
      '/auth/refresh',
      {
        config: {
          access: 'public',
          audit: { action: 'LOGIN', resource: 'SESSION' },
          rateLimit: { max: loginPerMinute * 4, timeWindow: 60_000 },
        },
        schema: {
          tags,
          summary: 'Exchange a refresh token for a new token pair',
          body: z.strictObject({ refresh_token: z.string().min(1).max(200) }),
          response: {
            200: tokenPairSchema,
            400: problemSchema,
            401: problemSchema,
            429: problemSchema,
          },
        },
      },
      async (request) => auth.refresh(request.body.refresh_token, changeContextFrom(request)),
    );

    app.post(
      '/auth/logout',
      {
        config: {
          access: 'signed-in',
          allowDuringPasswordChange: true,
          audit: { action: 'LOGOUT', resource: 'SESSION' },
        },
        schema: {
          tags,
          summary: 'End this session (or every session with everywhere=true)',
          body: z
            .strictObject({
              refresh_token: z.string().min(1).max(200).optional(),
              everywhere: z.boolean().default(false),
            })
            .default({ everywhere: false }),
          response: { 204: z.null(), ...commonErrorResponses },
        },
      },
      async (request, reply) => {
        const actor = request.actor!;
        await auth.logout(
          actor,
          request.body.refresh_token,
          request.body.everywhere,
          changeContextFrom(request),
        );
        return reply.code(204).send(null);
      },
    );

    app.get(
      '/auth/me',
      {
        config: { access: 'signed-in', allowDuringPasswordChange: true },
        schema: {
          tags,
          summary: 'The signed-in user and the permissions of their role',
          response: {
            200: userResponseSchema.extend({ permissions: z.array(z.string()) }),
            ...commonErrorResponses,
          },
        },
      },
      async (request) => {
        const user = await auth.currentUser(request.actor!);
        return {
          ...toUserResponse(user),
          permissions: (await roles.permissionsFor(user.role)) ?? [],
        };
      },
    );

    app.post(
      '/auth/change-password',
      {
        config: {
          access: 'signed-in',
          allowDuringPasswordChange: true,
          audit: { action: 'PASSWORD_CHANGE', resource: 'USER' },
          rateLimit: { max: loginPerMinute, timeWindow: 60_000 },
        },
        schema: {
          tags,
          summary: 'Change your own password; ends your other sessions',
          body: z.strictObject({
            current_password: z.string().min(1).max(256),
            new_password: newPassword,
          }),
          response: { 200: tokenPairSchema, ...commonErrorResponses, 429: problemSchema },
        },
      },
      async (request) =>
        auth.changePassword(
          request.actor!,
          request.body.current_password,
          request.body.new_password,
          changeContextFrom(request),
        ),
    );
  };
}
