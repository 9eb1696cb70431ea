import { FIELD_BY_NAME, FIELD_SPECS, IMPORT_FIELDS } from './fields.ts';
import type { HeaderMapping, ImportType } from './types.ts';

/**
 * A header as words: no accents, lower case, final sigma as sigma, punctuation as spaces.
 * "Ηλ. Ταχυδρομείο:" → "ηλ ταχυδρομειο", "E-mail" → "e mail", "Student_ID" → "student id".
 */
export function headerWords(header: string): string {
  return header
    .normalize('NFD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/ς/g, 'σ')
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();
}

/** The same without spaces, so "e mail", "email" and "E_Mail" are one name. */
export function headerKey(header: string): string {
  return headerWords(header).replace(/ /g, '');
}

interface HeaderIndex {
  byKey: Map<string, string>;
  contains: Array<{ words: string; field: string }>;
}

function buildIndex(type: ImportType): HeaderIndex {
  const byKey = new Map<string, string>();
  const contains: HeaderIndex['contains'] = [];
  for (const spec of FIELD_SPECS[type]) {
    for (const name of [spec.name, ...(spec.aliases ?? [])]) {
      const key = headerKey(name);
      const taken = byKey.get(key);
      if (taken && taken !== spec.name) {
        throw new Error(`import ${type}: the header "${name}" maps to ${taken} and ${spec.name}`);
      }
      byKey.set(key, spec.name);
    }
    for (const phrase of spec.contains ?? [])
      contains.push({ words: headerWords(phrase), field: spec.name });
  }
  return { byKey, contains };
}

const INDEXES = Object.fromEntries(
  Object.keys(FIELD_SPECS).map((type) => [type, buildIndex(type as ImportType)]),
) as Record<ImportType, HeaderIndex>;

/** The field a header names for an import type, without any override; null when none. */
export function fieldForHeader(importType: ImportType, header: string): string | null {
  const index = INDEXES[importType];
  const words = headerWords(header);
  if (words === '') return null;
  const exact = index.byKey.get(words.replace(/ /g, ''));
  if (exact) return exact;
  for (const { words: phrase, field } of index.contains) {
    if (` ${words} `.includes(` ${phrase} `)) return field;
  }
  return null;
}

/** The override's entry for a header: by exact text first, then by the same normalised name. */
function overrideFor(
  override: Record<string, string | null> | undefined,
  header: string,
): { found: boolean; field: string | null } {
  if (!override) return { found: false, field: null };
  if (Object.hasOwn(override, header)) return { found: true, field: override[header] ?? null };
  const key = headerKey(header);
  if (key === '') return { found: false, field: null };
  for (const [name, field] of Object.entries(override)) {
    if (headerKey(name) === key) return { found: true, field };
  }
  return { found: false, field: null };
}

/**
 * Headers to fields. An override entry (header → field, or null to ignore the column) wins
 * over what the names say. When two columns name the same field, a column named exactly like
 * the field (or chosen by the override) keeps it, else the first one does; the other is
 * ignored with a warning.
 */
export function mapHeaders(
  importType: ImportType,
  headers: string[],
  override?: Record<string, string | null>,
): HeaderMapping {
  const fields = FIELD_BY_NAME[importType];
  const invalidOverrides: HeaderMapping['invalidOverrides'] = [];
  const warnings: string[] = [];
  const ignoredByUser = new Set<number>();

  // Candidates with their strength: 3 override, 2 exact field name, 1 alias.
  const candidates = headers.map((header, index) => {
    const chosen = overrideFor(override, header);
    if (chosen.found) {
      if (chosen.field === null || chosen.field === '') {
        ignoredByUser.add(index);
        return null;
      }
      if (!fields.has(chosen.field)) {
        invalidOverrides.push({ header, field: chosen.field });
        return null;
      }
      return { field: chosen.field, strength: 3 };
    }
    const field = fieldForHeader(importType, header);
    if (!field) return null;
    return { field, strength: header.trim().toLowerCase() === field ? 2 : 1 };
  });

  const owner = new Map<string, number>();
  candidates.forEach((candidate, index) => {
    if (!candidate) return;
    const current = owner.get(candidate.field);
    if (current === undefined || candidate.strength > candidates[current]!.strength) {
      owner.set(candidate.field, index);
    }
  });

  const mapping = headers.map((header, index) => {
    const candidate = candidates[index];
    if (!candidate) return { header, field: null };
    const winner = owner.get(candidate.field)!;
    if (winner !== index) {
      warnings.push(
        `The column "${header}" is ignored: the column "${headers[winner]}" already gives ${candidate.field}.`,
      );
      return { header, field: null };
    }
    return { header, field: candidate.field };
  });

  const unknownHeaders: string[] = [];
  mapping.forEach((entry, index) => {
    if (entry.field !== null || ignoredByUser.has(index) || candidates[index] !== null) return;
    if (invalidOverrides.some((o) => o.header === entry.header)) return;
    if (entry.header.trim() === '') {
      warnings.push(`Column ${index + 1} has no header; its values are ignored.`);
    } else {
      unknownHeaders.push(entry.header);
    }
  });

  const mapped = new Set(mapping.map((entry) => entry.field));
  const missingRequired = IMPORT_FIELDS[importType].required.filter((field) => !mapped.has(field));
  return { mapping, missingRequired, unknownHeaders, invalidOverrides, warnings };
}

/** How well a row works as the header: the number of fields it maps. */
export function headerScore(
  importType: ImportType,
  cells: readonly unknown[],
  override?: Record<string, string | null>,
): { mapped: number; complete: boolean } {
  const headers = cells.map((cell) => (typeof cell === 'string' ? cell : ''));
  const result = mapHeaders(importType, headers, override);
  const mapped = result.mapping.filter((entry) => entry.field !== null).length;
  return { mapped, complete: mapped > 0 && result.missingRequired.length === 0 };
}
