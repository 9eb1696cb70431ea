import { z } from 'zod';

/** A calendar date written YYYY-MM-DD that really exists (no 2025-02-30). */
export const isoDate = z.iso.date({ message: 'must be a date written YYYY-MM-DD' });

/** Blank text means "no value"; done before validation so the documented type stays string. */
const blankToNull = (value: unknown) =>
  typeof value === 'string' && value.trim() === '' ? null : value;

/** Optional free text: trimmed, empty means "no value". */
export const optionalText = (max: number) =>
  z.preprocess(blankToNull, z.string().trim().max(max).nullable()).optional();

export const requiredText = (max: number) => z.string().trim().min(1, 'must not be empty').max(max);

export const emailAddress = z
  .email({ message: 'must be an e-mail address' })
  .max(254)
  .toLowerCase();

export const phoneNumber = z
  .preprocess(
    blankToNull,
    z
      .string()
      .trim()
      .max(32)
      .regex(/^[+()\d\s./-]*$/, 'may contain only digits, spaces and + ( ) . / -')
      .nullable(),
  )
  .optional();

/** A reference to another record by its integer id. */
export const recordId = z.number().int().min(1).max(2_147_483_647);

export const timestampOutput = z.iso.datetime();

/** Timestamps leave the API as ISO 8601 strings in UTC. */
export const toIso = (value: Date | null): string | null => (value ? value.toISOString() : null);

/** Equality filter on an integer query parameter. */
export const queryId = z.coerce.number().int().min(1).max(2_147_483_647).optional();
