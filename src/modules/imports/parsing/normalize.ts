import type { z } from 'zod';
import { notAbove } from '../../../platform/crud/references.ts';
import { attendanceCreateSchema } from '../../attendance/attendance.schema.ts';
import { courseCreateSchema } from '../../courses/courses.schema.ts';
import { enrollmentCreateSchema } from '../../enrollments/enrollments.schema.ts';
import { DEFAULT_MAX_GRADE, gradeCreateSchema } from '../../grades/grades.schema.ts';
import { highlightCreateSchema } from '../../highlights/highlights.schema.ts';
import {
  DEFAULT_MAX_SCORE,
  performanceCreateSchema,
} from '../../performances/performances.schema.ts';
import { studentCreateSchema } from '../../students/students.schema.ts';
import { FIELD_BY_NAME, type FieldSpec } from './fields.ts';
import type {
  Cell,
  DateOrder,
  HeaderMapping,
  ImportType,
  NormalizedRow,
  RowIssue,
} from './types.ts';
import {
  type Converted,
  enumMatcher,
  Invalid,
  isBlank,
  toBoolean,
  toInteger,
  toIsoDate,
  toJson,
  toNumber,
  toStudyYear,
  toText,
} from './values.ts';

/**
 * Each module's own create schema validates the row. In a file, references are business
 * keys (the student's student_id text, the course's course_code), not the numeric ids the API
 * takes, so the schemas are used without their id fields; the caller resolves the keys and
 * adds student_id / course_id.
 */
const SCHEMAS: Record<ImportType, z.ZodType<Record<string, unknown>>> = {
  students: studentCreateSchema,
  courses: courseCreateSchema,
  enrollments: enrollmentCreateSchema.omit({ student_id: true, course_id: true }),
  grades: gradeCreateSchema.omit({ student_id: true, course_id: true }),
  attendance: attendanceCreateSchema.omit({ student_id: true, course_id: true }),
  daily_performances: performanceCreateSchema.omit({ student_id: true, course_id: true }),
  highlights: highlightCreateSchema.omit({ student_id: true }),
};

/** Rules across fields that the services also enforce (recordChecks), checked here for the preview. */
function crossFieldIssues(importType: ImportType, data: Record<string, unknown>): RowIssue[] {
  const found =
    importType === 'grades'
      ? [
          ...notAbove(
            { field: 'grade', value: data.grade as number | undefined },
            {
              field: 'max_grade',
              value: (data.max_grade as number | undefined) ?? DEFAULT_MAX_GRADE,
            },
            'low',
          ),
          ...notAbove(
            { field: 'date_assigned', value: data.date_assigned as string | null | undefined },
            { field: 'date_submitted', value: data.date_submitted as string | null | undefined },
            'high',
            { above: 'after', below: 'before' },
          ),
        ]
      : importType === 'daily_performances'
        ? notAbove(
            { field: 'score', value: data.score as number | undefined },
            {
              field: 'max_score',
              value: (data.max_score as number | undefined) ?? DEFAULT_MAX_SCORE,
            },
            'low',
          )
        : [];
  const issues: RowIssue[] = [];
  for (const issue of found) {
    issues.push({
      field: issue.field.replace(/^body\./, ''),
      message: issue.message,
      severity: 'error',
    });
  }
  return issues;
}

type Converter = (cell: Cell) => Converted<unknown>;

interface Column {
  index: number;
  spec: FieldSpec;
  convert: Converter;
}

interface Plan {
  importType: ImportType;
  columns: Column[];
  width: number;
  required: FieldSpec[];
  mappedFields: Set<string>;
}

function converterFor(spec: FieldSpec, dateOrder: DateOrder): Converter {
  switch (spec.kind) {
    case 'text':
    case 'reference':
      return toText;
    case 'number':
      return toNumber;
    case 'integer':
      return toInteger;
    case 'date':
      return (cell) => toIsoDate(cell, dateOrder);
    case 'boolean':
      return toBoolean;
    case 'json':
      return (cell) => toJson(cell, spec.name);
    case 'study_year':
      return toStudyYear;
    case 'enum':
      return enumMatcher(spec.values ?? [], spec.synonyms);
  }
}

const plans = new WeakMap<HeaderMapping, Map<string, Plan>>();

function planFor(importType: ImportType, mapping: HeaderMapping, dateOrder: DateOrder): Plan {
  let byOptions = plans.get(mapping);
  if (!byOptions) {
    byOptions = new Map();
    plans.set(mapping, byOptions);
  }
  const cacheKey = `${importType}:${dateOrder}`;
  const cached = byOptions.get(cacheKey);
  if (cached) return cached;
  const fields = FIELD_BY_NAME[importType];
  const columns: Column[] = [];
  mapping.mapping.forEach((entry, index) => {
    const spec = entry.field ? fields.get(entry.field) : undefined;
    if (spec) columns.push({ index, spec, convert: converterFor(spec, dateOrder) });
  });
  const plan: Plan = {
    importType,
    columns,
    width: mapping.mapping.length,
    required: [...fields.values()].filter((spec) => spec.required),
    mappedFields: new Set(columns.map((column) => column.spec.name)),
  };
  byOptions.set(cacheKey, plan);
  return plan;
}

function withField(list: string[] | null, field: string): string[] {
  if (!list) return [field];
  list.push(field);
  return list;
}

/** "evaluation_rules: 1.category …" for issues inside a field's value. */
function issueMessage(issue: z.core.$ZodIssue): string {
  const inner = issue.path.slice(1);
  if (issue.code === 'invalid_type' && issue.input === undefined) return 'is required';
  return inner.length > 0 ? `${inner.join('.')}: ${issue.message}` : issue.message;
}

/**
 * One row's cells as the values the module's create schema takes, plus its business keys
 * and every problem found. Blank cells are left out (so an update keeps what is stored).
 */
export function normalizeRow(
  importType: ImportType,
  mapping: HeaderMapping,
  cells: Cell[],
  options: { dateOrder: DateOrder },
): NormalizedRow {
  const plan = planFor(importType, mapping, options.dateOrder);
  const data: Record<string, unknown> = {};
  const keys: Record<string, string> = {};
  const issues: RowIssue[] = [];
  // Fields that already have an issue, so the schema's complaint about them is not repeated.
  let failed: string[] | null = null;

  for (const { index, spec, convert } of plan.columns) {
    const cell = cells[index];
    if (cell === undefined || isBlank(cell)) continue;
    const value = convert(cell);
    if (value instanceof Invalid) {
      issues.push({ field: spec.name, message: value.message, severity: 'error' });
      failed = withField(failed, spec.name);
      continue;
    }
    if (spec.kind === 'reference') keys[spec.name] = value as string;
    else data[spec.name] = value;
  }

  for (const spec of plan.required) {
    if (spec.name in data || spec.name in keys || failed?.includes(spec.name)) continue;
    issues.push({
      field: spec.name,
      message: plan.mappedFields.has(spec.name)
        ? 'is required; the cell is empty'
        : 'is required; the file has no column for it',
      severity: 'error',
    });
    failed = withField(failed, spec.name);
  }

  let output = data;
  const result = SCHEMAS[importType].safeParse(data);
  if (result.success) {
    output = result.data;
    for (const issue of crossFieldIssues(importType, output)) issues.push(issue);
  } else {
    for (const issue of result.error.issues) {
      const field = String(issue.path[0] ?? '');
      if (failed?.includes(field)) continue;
      issues.push({ field, message: issueMessage(issue), severity: 'error' });
    }
  }

  if (importType === 'students') {
    if (typeof output.student_id === 'string') keys.student_id = output.student_id;
    if (typeof output.email === 'string') keys.email = output.email.toLowerCase();
  } else if (importType === 'courses') {
    if (typeof output.course_code === 'string') keys.course_code = output.course_code;
  }

  if (cells.length > plan.width) {
    let extra = 0;
    for (let i = plan.width; i < cells.length; i++) if (!isBlank(cells[i])) extra++;
    if (extra > 0) {
      issues.push({
        field: '',
        message: `The row has ${extra} value${extra === 1 ? '' : 's'} to the right of the last column with a header; ignored.`,
        severity: 'warning',
      });
    }
  }
  return { data: output, keys, issues };
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: the characters JSON escapes
const NEEDS_ESCAPE = /["\\\u0000-\u001f]/;

/**
 * A key's parts, written so that no two different rows give the same text: the parts are
 * JSON strings (quotes and backslashes escaped) joined by commas, e.g. grade:["S1","CS101","Final"].
 */
function key(name: string, parts: readonly unknown[]): string | null {
  let text = `${name}:[`;
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i];
    if (part === undefined || part === null || part === '') return null;
    if (i > 0) text += ',';
    if (typeof part !== 'string') text += String(part);
    else text += NEEDS_ESCAPE.test(part) ? JSON.stringify(part) : `"${part}"`;
  }
  return `${text}]`;
}

/**
 * The natural keys of a row for duplicate detection, within the file and against the
 * database: students by student_id and, separately, by e-mail; courses by course_code;
 * enrollments by student and course; grades by student, course and assignment; attendance by
 * student, course, date and period (1 when not given); daily performance by student, course,
 * date and category; highlights by student, semester and text. Keys that lack a part are left out.
 */
export function naturalKeys(
  importType: ImportType,
  data: Record<string, unknown>,
  keys: Record<string, string>,
): string[] {
  const student = keys.student_id ?? (data.student_id as string | undefined);
  const course = keys.course_code ?? (data.course_code as string | undefined);
  const found: Array<string | null> = [];
  switch (importType) {
    case 'students':
      found.push(key('student_id', [student]));
      found.push(key('email', [keys.email ?? (data.email as string | undefined)?.toLowerCase()]));
      break;
    case 'courses':
      found.push(key('course_code', [course]));
      break;
    case 'enrollments':
      found.push(key('enrollment', [student, course]));
      break;
    case 'grades':
      found.push(key('grade', [student, course, data.assignment_name]));
      break;
    case 'attendance':
      found.push(key('attendance', [student, course, data.date, data.period_number ?? 1]));
      break;
    case 'daily_performances':
      found.push(key('daily_performance', [student, course, data.date, data.category]));
      break;
    case 'highlights':
      found.push(key('highlight', [student, data.semester, data.highlight_text]));
      break;
  }
  return found.filter((k): k is string => k !== null);
}
