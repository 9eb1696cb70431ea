import { z } from 'zod';

export const MAX_PAGE_SIZE = 500;

export const pageQuerySchema = z.object({
  page: z.coerce.number().int().min(1).max(1_000_000).default(1),
  page_size: z.coerce.number().int().min(1).max(MAX_PAGE_SIZE).default(50),
  search: z.string().trim().max(200).optional(),
  include_deleted: z
    .enum(['true', 'false'])
    .default('false')
    .transform((value) => value === 'true'),
});

export type PageQuery = z.infer<typeof pageQuerySchema>;

export interface Page<T> {
  items: T[];
  total: number;
  page: number;
  page_size: number;
  has_next: boolean;
}

export function pageSchema<T extends z.ZodType>(item: T) {
  return z.object({
    items: z.array(item),
    total: z.number().int(),
    page: z.number().int(),
    page_size: z.number().int(),
    has_next: z.boolean(),
  });
}

/** `sort=last_name` or `sort=-created_at`, limited to the columns a list allows. */
export function sortSchema<const K extends string>(
  keys: readonly [K, ...K[]],
  fallback: K | `-${K}`,
) {
  const allowed = new Set<string>(keys.flatMap((key) => [key, `-${key}`]));
  return z
    .string()
    .default(fallback)
    .refine((value) => allowed.has(value), {
      message: `must be one of: ${keys.join(', ')} (prefix - for descending)`,
    })
    .transform((value) => ({
      key: (value.startsWith('-') ? value.slice(1) : value) as K,
      descending: value.startsWith('-'),
    }));
}

/** A boolean query parameter written as true/false. */
export const queryBoolean = z.enum(['true', 'false']).transform((value) => value === 'true');

/** Escapes LIKE wildcards so a search for "50%" or "a_b" means exactly that. */
export function likePattern(term: string): string {
  return `%${term.replace(/[\\%_]/g, (char) => `\\${char}`)}%`;
}

/**
 * One page of a list and its total, without a window count: the page query fetches one row
 * more than it shows (so it knows whether another page follows and can stop its scan at
 * the LIMIT), and `count` runs only when the page alone cannot tell the total.
 */
export async function readPage<Row>(
  page: number,
  pageSize: number,
  fetch: (limit: number, offset: number) => Promise<Row[]>,
  count: () => Promise<number>,
): Promise<{ rows: Row[]; total: number; hasNext: boolean }> {
  const offset = (page - 1) * pageSize;
  const fetched = await fetch(pageSize + 1, offset);
  const hasNext = fetched.length > pageSize;
  const rows = fetched.slice(0, pageSize);
  const total =
    !hasNext && (rows.length > 0 || offset === 0) ? offset + rows.length : await count();
  return { rows, total, hasNext };
}
