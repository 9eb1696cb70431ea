import type { QueryOf } from '../../api/types.ts';

export type AuditListQuery = QueryOf<'/api/v1/audit/logs', 'get'>;
export type AuditExportQuery = QueryOf<'/api/v1/audit/logs/export', 'get'>;

/** The filters as the URL keeps them (plain text, '' meaning "any"). */
export const FILTER_DEFAULTS = {
  user: '',
  action: '',
  resource: '',
  resource_id: '',
  success: '',
  start_date: '',
  end_date: '',
  q: '',
  page_size: '50',
};
export type FilterValues = typeof FILTER_DEFAULTS;
export type FilterKey = keyof FilterValues;

export const PAGE_SIZES = ['25', '50', '100', '200', '500'] as const;

/** The filter fields a user may get wrong, with the message key that explains why. */
export interface FilterErrors {
  user?: 'userInvalid';
  start_date?: 'rangeReversed';
}

const PLAIN_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

const pad = (value: number, width = 2) => String(value).padStart(width, '0');

/** A local wall-clock time as ISO 8601 with this browser's UTC offset (the API takes both). */
function localIso(date: Date): string {
  const offset = -date.getTimezoneOffset();
  const sign = offset >= 0 ? '+' : '-';
  const hours = pad(Math.floor(Math.abs(offset) / 60));
  const minutes = pad(Math.abs(offset) % 60);
  return (
    `${pad(date.getFullYear(), 4)}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}` +
    `T${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}` +
    `.${pad(date.getMilliseconds(), 3)}${sign}${hours}:${minutes}`
  );
}

/**
 * A calendar day picked in the UI means that day where the user is (the UI shows local time),
 * so it is sent as the first or the last instant of that local day, with the offset.
 */
export function localDayBound(day: string, edge: 'start' | 'end'): string | undefined {
  const match = PLAIN_DATE.exec(day);
  if (!match) return undefined;
  const [year, month, date] = [Number(match[1]), Number(match[2]) - 1, Number(match[3])];
  const at =
    edge === 'start'
      ? new Date(year, month, date, 0, 0, 0, 0)
      : new Date(year, month, date, 23, 59, 59, 999);
  if (Number.isNaN(at.getTime())) return undefined;
  return localIso(at);
}

/**
 * The filters in the URL → the list's query, in a fixed order (so the same filters always
 * make the same request), and the errors of fields that cannot be sent as they are.
 */
export function toListQuery(values: FilterValues): {
  query: AuditListQuery;
  errors: FilterErrors;
} {
  const errors: FilterErrors = {};
  const query: AuditListQuery = {};
  const user = values.user.trim();
  if (/^\d+$/.test(user) && Number(user) >= 1 && Number(user) <= 2_147_483_647) {
    query.user_id = Number(user);
  } else if (/^[^\s@]+@[^\s@]+$/.test(user)) {
    query.user_email = user;
  } else if (user !== '') {
    errors.user = 'userInvalid';
  }
  if (values.action) query.action = values.action;
  if (values.resource) query.resource = values.resource;
  if (values.resource_id.trim()) query.resource_id = values.resource_id.trim();
  if (values.success === 'true' || values.success === 'false') query.success = values.success;
  const start = localDayBound(values.start_date, 'start');
  const end = localDayBound(values.end_date, 'end');
  if (start) query.start_date = start;
  if (end) query.end_date = end;
  if (start && end && Date.parse(start) > Date.parse(end)) errors.start_date = 'rangeReversed';
  if (values.q.trim()) query.q = values.q.trim();
  const size = Number(values.page_size);
  query.page_size = Number.isInteger(size) && size >= 1 && size <= 500 ? size : 50;
  return { query, errors };
}

/** The same filters for the export (it has no paging; the format is added by the caller). */
export function toExportQuery(
  query: AuditListQuery,
  format: NonNullable<AuditExportQuery['format']>,
): Record<string, string | number> {
  const { page_size: _size, page: _page, cursor: _cursor, ...filters } = query;
  const result: Record<string, string | number> = {};
  for (const [key, value] of Object.entries(filters)) {
    if (value === undefined) continue;
    result[key] = Array.isArray(value) ? value.join(',') : value;
  }
  result.format = format;
  return result;
}

/** A query object as a query string, in the object's order. */
export function queryString(query: Record<string, string | number>): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) params.append(key, String(value));
  return params.toString();
}

// ---------------------------------------------------------------------------------------
// Old / new values
// ---------------------------------------------------------------------------------------

export type DiffKind = 'changed' | 'added' | 'removed' | 'unchanged';

export interface DiffRow {
  field: string;
  kind: DiffKind;
  hasOld: boolean;
  hasNew: boolean;
  old: unknown;
  new: unknown;
}

const same = (a: unknown, b: unknown) => a === b || JSON.stringify(a) === JSON.stringify(b);

/** Field by field: what the entry's old and new values say, and how each field changed. */
export function diffValues(
  oldValues: Record<string, unknown> | null | undefined,
  newValues: Record<string, unknown> | null | undefined,
): DiffRow[] {
  const before = oldValues ?? {};
  const after = newValues ?? {};
  const fields = [...Object.keys(before)];
  for (const field of Object.keys(after)) if (!(field in before)) fields.push(field);
  return fields.map((field) => {
    const hasOld = Object.hasOwn(before, field);
    const hasNew = Object.hasOwn(after, field);
    const kind: DiffKind =
      hasOld && hasNew
        ? same(before[field], after[field])
          ? 'unchanged'
          : 'changed'
        : hasNew
          ? // Without old values at all (a creation), every new field is "added".
            'added'
          : // Without new values at all (a deletion), every old field is "removed".
            'removed';
    return { field, kind, hasOld, hasNew, old: before[field], new: after[field] };
  });
}

/** A value as short text: strings as they are, everything else as JSON. */
export function valueText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value === undefined) return '';
  return JSON.stringify(value);
}
