import { sql } from 'drizzle-orm';
import { z } from 'zod';
import type { Config } from '../../config.ts';
import type { Database } from '../../platform/db/client.ts';
import { type ChangeContext, SYSTEM_CONTEXT } from '../../platform/http/request-context.ts';
import { type AuditLogger, originFromContext } from '../audit/audit.logger.ts';
import { DEFAULT_GRADE_SCALE, gradeScaleSchema } from '../results/grade-scale.ts';
import { settings } from './settings.table.ts';

export const settingsSchema = z
  .object({
    school_name: z.string().trim().min(1).max(200),
    default_language: z.enum(['en', 'el']),
    audit_retention_days: z
      .number()
      .int()
      .min(1)
      .max(36_500)
      .nullable()
      .describe('Days an audit entry is kept before it is archived; null keeps it forever'),
    job_retention_hours: z.number().int().min(1).max(87_600),
    job_concurrency: z.number().int().min(1).max(64),
    grade_scale: gradeScaleSchema,
  })
  .meta({ id: 'Settings' });

export type Settings = z.infer<typeof settingsSchema>;

export const settingsPatchSchema = settingsSchema.partial().strict().meta({ id: 'SettingsPatch' });

/** Settings stored in the database, falling back to the environment's values. */
export class SettingsService {
  constructor(
    private readonly db: Database,
    private readonly defaults: Config['settingsDefaults'],
    private readonly audit?: AuditLogger,
    /** Told which settings changed once the change has committed (results follow grade_scale). */
    private readonly onChange?: (keys: Array<keyof Settings>) => void,
  ) {}

  async get(): Promise<Settings> {
    const rows = await this.db.select().from(settings);
    const stored = Object.fromEntries(rows.map((row) => [row.key, row.value]));
    // A stored value that no longer validates (an older version wrote it) falls back to the default.
    // grade_scale has no environment variable: its default is the usual A+ … F scale.
    const merged: Record<string, unknown> = { grade_scale: DEFAULT_GRADE_SCALE, ...this.defaults };
    for (const key of Object.keys(settingsSchema.shape) as Array<keyof Settings>) {
      if (key in stored && settingsSchema.shape[key].safeParse(stored[key]).success) {
        merged[key] = stored[key];
      }
    }
    return settingsSchema.parse(merged);
  }

  async update(
    patch: Partial<Settings>,
    context: ChangeContext = SYSTEM_CONTEXT,
  ): Promise<{ settings: Settings; previous: Settings }> {
    const previous = await this.get();
    const userId = context.actor?.id ?? null;
    await this.db.transaction(async (tx) => {
      for (const [key, value] of Object.entries(patch)) {
        if (value === undefined) continue;
        // A JSON null (e.g. "keep the audit trail forever") is a value, not a missing one.
        const stored = value === null ? sql`'null'::jsonb` : value;
        await tx
          .insert(settings)
          .values({ key, value: stored, updated_by: userId })
          .onConflictDoUpdate({
            target: settings.key,
            set: { value: stored, updated_by: userId, updated_at: new Date() },
          });
      }
      const changed = Object.keys(patch) as Array<keyof Settings>;
      await this.audit?.append(tx, originFromContext(context), [
        {
          action: 'CONFIG_CHANGE',
          resource: 'SYSTEM',
          resourceId: 'settings',
          oldValues: Object.fromEntries(changed.map((key) => [key, previous[key]])),
          newValues: Object.fromEntries(changed.map((key) => [key, patch[key]])),
        },
      ]);
    });
    this.onChange?.(Object.keys(patch) as Array<keyof Settings>);
    return { settings: await this.get(), previous };
  }
}
