/**
 * What each import type can hold, as the server's import parser names its fields
 * (src/modules/imports/parsing/fields.ts): the choices of the column mapping.
 */
export const IMPORT_TYPES = [
  'students',
  'courses',
  'enrollments',
  'grades',
  'attendance',
  'daily_performances',
  'highlights',
] as const;

export type ImportType = (typeof IMPORT_TYPES)[number];

export const IMPORT_FIELDS: Record<ImportType, readonly string[]> = {
  students: [
    'student_id',
    'first_name',
    'last_name',
    'email',
    'father_name',
    'mobile_phone',
    'phone',
    'study_year',
    'enrollment_date',
    'is_active',
    'academic_year',
    'class_division',
    'health_issue',
    'note',
  ],
  courses: [
    'course_code',
    'course_name',
    'semester',
    'credits',
    'description',
    'evaluation_rules',
    'absence_penalty',
    'hours_per_week',
    'teaching_schedule',
  ],
  enrollments: ['student_id', 'course_code', 'enrollment_date', 'status'],
  grades: [
    'student_id',
    'course_code',
    'assignment_name',
    'category',
    'grade',
    'max_grade',
    'weight',
    'date_assigned',
    'date_submitted',
    'notes',
  ],
  attendance: ['student_id', 'course_code', 'date', 'status', 'period_number', 'notes'],
  daily_performances: [
    'student_id',
    'course_code',
    'date',
    'category',
    'score',
    'max_score',
    'notes',
  ],
  highlights: [
    'student_id',
    'semester',
    'rating',
    'category',
    'highlight_text',
    'is_positive',
    'date_created',
  ],
};

/** The encodings and delimiters the server accepts as overrides. */
export const ENCODINGS = ['utf-8', 'utf-16le', 'utf-16be', 'windows-1253', 'windows-1252'] as const;
export const DELIMITERS = [',', ';', 'tab', '|'] as const;
