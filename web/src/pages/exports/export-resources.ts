import type { RequestBody } from '../../api/types.ts';
import type { ExportMessageKey } from './messages.ts';

type CreateExport = RequestBody<'/api/v1/exports', 'post'>;
export type ExportResource = CreateExport['resource'];
export type ExportFormat = NonNullable<CreateExport['format']>;
export type ExportLang = NonNullable<CreateExport['lang']>;

export const EXPORT_FORMATS = ['csv', 'xlsx', 'json'] as const satisfies readonly ExportFormat[];

/** One filter of a resource's list, as the query string names it. */
export interface FilterField {
  key: string;
  label: ExportMessageKey;
  hint?: ExportMessageKey;
  kind: 'text' | 'number' | 'date' | 'yesno' | 'select';
  /** For select: the values the list accepts, each with its label. */
  options?: readonly { value: string; label: ExportMessageKey }[];
  min?: number;
  max?: number;
}

const search: FilterField = { key: 'search', label: 'search', hint: 'searchHint', kind: 'text' };
const student: FilterField = {
  key: 'student_id',
  label: 'studentId',
  hint: 'recordNumberHint',
  kind: 'number',
  min: 1,
};
const course: FilterField = {
  key: 'course_id',
  label: 'courseId',
  hint: 'recordNumberHint',
  kind: 'number',
  min: 1,
};
const category: FilterField = { key: 'category', label: 'category', kind: 'text' };
const semester: FilterField = { key: 'semester', label: 'semester', kind: 'text' };
const dateRange: FilterField[] = [
  { key: 'date_from', label: 'dateFrom', kind: 'date' },
  { key: 'date_to', label: 'dateTo', kind: 'date' },
];
const active: FilterField = { key: 'is_active', label: 'isActive', kind: 'yesno' };

/**
 * What each export offers: the read permission its route checks (GET /exports/{resource}),
 * and the filters of the resource's list (the export takes the same ones).
 */
export const EXPORT_RESOURCES: Record<
  ExportResource,
  {
    permission: string;
    filters: FilterField[];
    /** False for derived tables without soft delete (no include_deleted filter). */
    softDelete?: false;
  }
> = {
  students: {
    permission: 'students:read',
    filters: [
      search,
      { key: 'study_year', label: 'studyYear', kind: 'number', min: 1, max: 12 },
      active,
      { key: 'academic_year', label: 'academicYear', hint: 'academicYearHint', kind: 'text' },
      { key: 'class_division', label: 'classDivision', kind: 'text' },
    ],
  },
  courses: { permission: 'courses:read', filters: [search, semester] },
  enrollments: {
    permission: 'enrollments:read',
    filters: [
      student,
      course,
      {
        key: 'status',
        label: 'status',
        kind: 'select',
        options: [
          { value: 'active', label: 'status_active' },
          { value: 'completed', label: 'status_completed' },
          { value: 'dropped', label: 'status_dropped' },
        ],
      },
    ],
  },
  grades: { permission: 'grades:read', filters: [student, course, category, ...dateRange] },
  attendance: {
    permission: 'attendance:read',
    filters: [
      student,
      course,
      {
        key: 'status',
        label: 'status',
        kind: 'select',
        options: [
          { value: 'Present', label: 'status_Present' },
          { value: 'Absent', label: 'status_Absent' },
          { value: 'Late', label: 'status_Late' },
          { value: 'Excused', label: 'status_Excused' },
        ],
      },
      ...dateRange,
    ],
  },
  daily_performances: {
    permission: 'performance:read',
    filters: [student, course, category, ...dateRange],
  },
  highlights: {
    permission: 'highlights:read',
    filters: [
      student,
      semester,
      category,
      {
        key: 'is_positive',
        label: 'isPositive',
        kind: 'select',
        options: [
          { value: 'true', label: 'positive' },
          { value: 'false', label: 'negative' },
        ],
      },
    ],
  },
  results: {
    permission: 'grades:read',
    filters: [student, course, { key: 'letter_grade', label: 'letterGrade', kind: 'text' }],
    softDelete: false,
  },
  users: {
    permission: 'users:read',
    filters: [
      search,
      {
        key: 'role',
        label: 'role',
        kind: 'select',
        options: [
          { value: 'admin', label: 'role_admin' },
          { value: 'teacher', label: 'role_teacher' },
          { value: 'viewer', label: 'role_viewer' },
        ],
      },
      active,
    ],
  },
};

export const RESOURCE_ORDER = Object.keys(EXPORT_RESOURCES) as ExportResource[];
