import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { commonErrorResponses } from '../../platform/http/problems.ts';
import { changeContextFrom } from '../../platform/http/request-context.ts';
import { type SettingsService, settingsPatchSchema, settingsSchema } from './settings.service.ts';

const tags = ['Settings'];

export function settingsRoutes(service: SettingsService) {
  return async (instance: FastifyInstance) => {
    const app = instance.withTypeProvider<ZodTypeProvider>();

    app.get(
      '/settings',
      {
        config: { access: 'settings:read' },
        schema: {
          tags,
          summary: 'Runtime settings (stored values over environment defaults)',
          response: { 200: settingsSchema, ...commonErrorResponses },
        },
      },
      async () => service.get(),
    );

    app.patch(
      '/settings',
      {
        config: {
          access: 'settings:write',
          audit: { action: 'CONFIG_CHANGE', resource: 'SYSTEM' },
        },
        schema: {
          tags,
          summary: 'Change runtime settings; takes effect without a restart',
          body: settingsPatchSchema,
          response: { 200: settingsSchema, ...commonErrorResponses },
        },
      },
      async (request) => (await service.update(request.body, changeContextFrom(request))).settings,
    );
  };
}
