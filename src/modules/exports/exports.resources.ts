import { eq, type SQL, sql } from 'drizzle-orm';
import type { PgColumn, PgTable } from 'drizzle-orm/pg-core';
import { z } from 'zod';
import { equalsFilter } from '../../platform/crud/filters.ts';
import type { ResourceDefinition, ResourceTable } from '../../platform/crud/resource.service.ts';
import { queryId } from '../../platform/http/fields.ts';
import { pageQuerySchema, sortSchema } from '../../platform/http/pagination.ts';
import {
  attendanceDefinition,
  attendanceListQuerySchema,
} from '../attendance/attendance.schema.ts';
import { attendance } from '../attendance/attendance.table.ts';
import type { AuditResource } from '../audit/audit.constants.ts';
import { courseDefinition, courseListQuerySchema } from '../courses/courses.schema.ts';
import { courses } from '../courses/courses.table.ts';
import {
  enrollmentDefinition,
  enrollmentListQuerySchema,
} from '../enrollments/enrollments.schema.ts';
import { courseEnrollments } from '../enrollments/enrollments.table.ts';
import { gradeDefinition, gradeListQuerySchema } from '../grades/grades.schema.ts';
import { grades } from '../grades/grades.table.ts';
import { highlightDefinition, highlightListQuerySchema } from '../highlights/highlights.schema.ts';
import { highlights } from '../highlights/highlights.table.ts';
import {
  performanceDefinition,
  performanceListQuerySchema,
} from '../performances/performances.schema.ts';
import { dailyPerformances } from '../performances/performances.table.ts';
import { courseResults } from '../results/results.table.ts';
import type { Permission } from '../roles/permissions.ts';
import { studentDefinition, studentListQuerySchema } from '../students/students.schema.ts';
import { students } from '../students/students.table.ts';
import { userDefinition, userListQuerySchema } from '../users/users.schema.ts';
import { users } from '../users/users.table.ts';
import type { CellType, ExportLanguage, SheetColumn } from './exports.writers.ts';

/** The resources GET /exports/{resource} and POST /exports know, by their URL name. */
export const EXPORT_RESOURCES = [
  'students',
  'courses',
  'enrollments',
  'grades',
  'attendance',
  'daily_performances',
  'highlights',
  'users',
  'results',
] as const;
export type ExportResource = (typeof EXPORT_RESOURCES)[number];

type Label = Record<ExportLanguage, string>;

export type ExportTable = PgTable & { id: PgColumn; deleted_at?: PgColumn };

export interface ExportColumn {
  key: string;
  type: CellType;
  /** What to read: a column of the resource's table or of a joined one. */
  source: PgColumn | SQL;
  header: Label;
}

export interface ExportSpec {
  name: ExportResource;
  auditResource: AuditResource;
  /** The resource's read permission: exporting is reading. */
  permission: Permission;
  sheet: Label;
  /** Derived tables (course_results) have no soft delete, so no deleted_at. */
  table: ExportTable;
  /** Filters and text search, shared with the resource's list. */
  definition: Pick<
    ResourceDefinition<ResourceTable, never>,
    'label' | 'filters' | 'searchDocument'
  >;
  /** The resource's list query (its filters are the export's filters; paging and sort are dropped). */
  listQuery: z.ZodObject;
  columns: ExportColumn[];
  /** Tables joined (LEFT JOIN) to name related records by their business keys. */
  joins: Array<{ table: PgTable; on: SQL }>;
}

const column = (key: string, type: CellType, source: PgColumn | SQL, en: string, el: string) => ({
  key,
  type,
  source,
  header: { en, el },
});

/** The bookkeeping columns every table has. */
function timestamps(table: { created_at: PgColumn; updated_at: PgColumn }): ExportColumn[] {
  return [
    column('created_at', 'datetime', table.created_at, 'Created (UTC)', 'Δημιουργία (UTC)'),
    column('updated_at', 'datetime', table.updated_at, 'Updated (UTC)', 'Τελευταία αλλαγή (UTC)'),
  ];
}

/**
 * Related students and courses by the keys people and the importer use (the school's
 * student id and the course code), not by database ids.
 */
const studentRef = (table: { student_id: PgColumn }) => ({
  columns: [
    column('student_id', 'text', students.student_id, 'Student ID', 'Αριθμός Δελτίου Ταυτότητας'),
    column('student_last_name', 'text', students.last_name, 'Student last name', 'Επώνυμο μαθητή'),
    column('student_first_name', 'text', students.first_name, 'Student first name', 'Όνομα μαθητή'),
  ],
  join: { table: students, on: eq(students.id, table.student_id) },
});
const courseRef = (table: { course_id: PgColumn }) => ({
  columns: [
    column('course_code', 'text', courses.course_code, 'Course code', 'Κωδικός μαθήματος'),
    column('course_name', 'text', courses.course_name, 'Course name', 'Τίτλος μαθήματος'),
  ],
  join: { table: courses, on: eq(courses.id, table.course_id) },
});

const idColumn = (table: ExportTable) => column('id', 'number', table.id, 'ID', 'Α/Α');

/** The student export's Greek headers are the original system's, so the file imports back. */
const studentColumns: ExportColumn[] = [
  idColumn(students),
  column('student_id', 'text', students.student_id, 'Student ID', 'Αριθμός Δελτίου Ταυτότητας:'),
  column('last_name', 'text', students.last_name, 'Last name', 'Επώνυμο:'),
  column('first_name', 'text', students.first_name, 'First name', 'Όνομα:'),
  column('father_name', 'text', students.father_name, "Father's name", 'Όνομα Πατέρα:'),
  column('email', 'text', students.email, 'E-mail', 'Ηλ. Ταχυδρομείο:'),
  column('mobile_phone', 'text', students.mobile_phone, 'Mobile phone', 'Αρ. Κινητού Τηλεφώνου:'),
  column('phone', 'text', students.phone, 'Phone', 'Αρ. Σταθερού Τηλεφώνου:'),
  column('study_year', 'number', students.study_year, 'Study year', 'Έτος Σπουδών:'),
  column(
    'enrollment_date',
    'date',
    students.enrollment_date,
    'Enrollment date',
    'Ημερομηνία εγγραφής',
  ),
  column('is_active', 'boolean', students.is_active, 'Active', 'Ενεργός'),
  column('academic_year', 'text', students.academic_year, 'Academic year', 'Ακαδημαϊκό έτος'),
  column('class_division', 'text', students.class_division, 'Class', 'Τμήμα'),
  column('health_issue', 'text', students.health_issue, 'Health issue', 'Τυχόν πρόβλημα υγείας'),
  column('note', 'text', students.note, 'Note', 'Σημείωση'),
  ...timestamps(students),
];

const enrollmentStudent = studentRef(courseEnrollments);
const enrollmentCourse = courseRef(courseEnrollments);
const gradeStudent = studentRef(grades);
const gradeCourse = courseRef(grades);
const attendanceStudent = studentRef(attendance);
const attendanceCourse = courseRef(attendance);
const performanceStudent = studentRef(dailyPerformances);
const performanceCourse = courseRef(dailyPerformances);
const highlightStudent = studentRef(highlights);
const resultStudent = studentRef(courseResults);
const resultCourse = courseRef(courseResults);

/** Results have no list route: the export's filters are its own. */
export const resultExportQuerySchema = pageQuerySchema
  .pick({ page: true, page_size: true })
  .extend({
    sort: sortSchema(['id'], 'id'),
    student_id: queryId,
    course_id: queryId,
    letter_grade: z.string().trim().max(10).optional(),
  });

export const EXPORT_SPECS: Record<ExportResource, ExportSpec> = {
  students: {
    name: 'students',
    auditResource: 'STUDENT',
    permission: 'students:read',
    sheet: { en: 'Students', el: 'Μαθητές' },
    table: students,
    definition: studentDefinition,
    listQuery: studentListQuerySchema,
    columns: studentColumns,
    joins: [],
  },
  courses: {
    name: 'courses',
    auditResource: 'COURSE',
    permission: 'courses:read',
    sheet: { en: 'Courses', el: 'Μαθήματα' },
    table: courses,
    definition: courseDefinition,
    listQuery: courseListQuerySchema,
    columns: [
      idColumn(courses),
      column('course_code', 'text', courses.course_code, 'Course code', 'Κωδικός μαθήματος'),
      column('course_name', 'text', courses.course_name, 'Course name', 'Τίτλος μαθήματος'),
      column('semester', 'text', courses.semester, 'Semester', 'Εξάμηνο'),
      column('credits', 'number', courses.credits, 'Credits', 'Διδακτικές μονάδες'),
      column('description', 'text', courses.description, 'Description', 'Περιγραφή'),
      column(
        'evaluation_rules',
        'json',
        courses.evaluation_rules,
        'Evaluation rules',
        'Κανόνες αξιολόγησης',
      ),
      column(
        'absence_penalty',
        'number',
        courses.absence_penalty,
        'Absence penalty',
        'Ποινή απουσιών',
      ),
      column(
        'hours_per_week',
        'number',
        courses.hours_per_week,
        'Hours per week',
        'Ώρες ανά εβδομάδα',
      ),
      column(
        'teaching_schedule',
        'json',
        courses.teaching_schedule,
        'Teaching schedule',
        'Πρόγραμμα διδασκαλίας',
      ),
      ...timestamps(courses),
    ],
    joins: [],
  },
  enrollments: {
    name: 'enrollments',
    auditResource: 'ENROLLMENT',
    permission: 'enrollments:read',
    sheet: { en: 'Enrollments', el: 'Εγγραφές σε μαθήματα' },
    table: courseEnrollments,
    definition: enrollmentDefinition,
    listQuery: enrollmentListQuerySchema,
    columns: [
      idColumn(courseEnrollments),
      ...enrollmentStudent.columns,
      ...enrollmentCourse.columns,
      column(
        'enrollment_date',
        'date',
        courseEnrollments.enrollment_date,
        'Enrollment date',
        'Ημερομηνία εγγραφής',
      ),
      column('status', 'text', courseEnrollments.status, 'Status', 'Κατάσταση'),
      ...timestamps(courseEnrollments),
    ],
    joins: [enrollmentStudent.join, enrollmentCourse.join],
  },
  grades: {
    name: 'grades',
    auditResource: 'GRADE',
    permission: 'grades:read',
    sheet: { en: 'Grades', el: 'Βαθμοί' },
    table: grades,
    definition: gradeDefinition,
    listQuery: gradeListQuerySchema,
    columns: [
      idColumn(grades),
      ...gradeStudent.columns,
      ...gradeCourse.columns,
      column('assignment_name', 'text', grades.assignment_name, 'Assignment', 'Εργασία / εξέταση'),
      column('category', 'text', grades.category, 'Category', 'Κατηγορία'),
      column('grade', 'number', grades.grade, 'Grade', 'Βαθμός'),
      column('max_grade', 'number', grades.max_grade, 'Max grade', 'Μέγιστος βαθμός'),
      column('weight', 'number', grades.weight, 'Weight', 'Βαρύτητα'),
      column('date_assigned', 'date', grades.date_assigned, 'Date assigned', 'Ημερομηνία ανάθεσης'),
      column(
        'date_submitted',
        'date',
        grades.date_submitted,
        'Date submitted',
        'Ημερομηνία υποβολής',
      ),
      column('notes', 'text', grades.notes, 'Notes', 'Σημειώσεις'),
      ...timestamps(grades),
    ],
    joins: [gradeStudent.join, gradeCourse.join],
  },
  attendance: {
    name: 'attendance',
    auditResource: 'ATTENDANCE',
    permission: 'attendance:read',
    sheet: { en: 'Attendance', el: 'Παρουσίες' },
    table: attendance,
    definition: attendanceDefinition,
    listQuery: attendanceListQuerySchema,
    columns: [
      idColumn(attendance),
      ...attendanceStudent.columns,
      ...attendanceCourse.columns,
      column('date', 'date', attendance.date, 'Date', 'Ημερομηνία'),
      column('period_number', 'number', attendance.period_number, 'Period', 'Διδακτική ώρα'),
      column('status', 'text', attendance.status, 'Status', 'Κατάσταση'),
      column('notes', 'text', attendance.notes, 'Notes', 'Σημειώσεις'),
      ...timestamps(attendance),
    ],
    joins: [attendanceStudent.join, attendanceCourse.join],
  },
  daily_performances: {
    name: 'daily_performances',
    auditResource: 'PERFORMANCE',
    permission: 'performance:read',
    sheet: { en: 'Daily performance', el: 'Ημερήσια επίδοση' },
    table: dailyPerformances,
    definition: performanceDefinition,
    listQuery: performanceListQuerySchema,
    columns: [
      idColumn(dailyPerformances),
      ...performanceStudent.columns,
      ...performanceCourse.columns,
      column('date', 'date', dailyPerformances.date, 'Date', 'Ημερομηνία'),
      column('category', 'text', dailyPerformances.category, 'Category', 'Κατηγορία'),
      column('score', 'number', dailyPerformances.score, 'Score', 'Βαθμολογία'),
      column('max_score', 'number', dailyPerformances.max_score, 'Max score', 'Μέγιστη βαθμολογία'),
      column('notes', 'text', dailyPerformances.notes, 'Notes', 'Σημειώσεις'),
      ...timestamps(dailyPerformances),
    ],
    joins: [performanceStudent.join, performanceCourse.join],
  },
  highlights: {
    name: 'highlights',
    auditResource: 'HIGHLIGHT',
    permission: 'highlights:read',
    sheet: { en: 'Highlights', el: 'Επισημάνσεις' },
    table: highlights,
    definition: highlightDefinition,
    listQuery: highlightListQuerySchema,
    columns: [
      idColumn(highlights),
      ...highlightStudent.columns,
      column('semester', 'text', highlights.semester, 'Semester', 'Εξάμηνο'),
      column('rating', 'number', highlights.rating, 'Rating', 'Αξιολόγηση'),
      column('category', 'text', highlights.category, 'Category', 'Κατηγορία'),
      column('highlight_text', 'text', highlights.highlight_text, 'Highlight', 'Επισήμανση'),
      column('is_positive', 'boolean', highlights.is_positive, 'Positive', 'Θετική'),
      column('date_created', 'date', highlights.date_created, 'Date', 'Ημερομηνία'),
      ...timestamps(highlights),
    ],
    joins: [highlightStudent.join],
  },
  users: {
    name: 'users',
    auditResource: 'USER',
    permission: 'users:read',
    sheet: { en: 'Users', el: 'Χρήστες' },
    table: users,
    definition: userDefinition,
    listQuery: userListQuerySchema,
    // Never the password hash: only these columns are ever read.
    columns: [
      idColumn(users),
      column('email', 'text', users.email, 'E-mail', 'Ηλ. ταχυδρομείο'),
      column('full_name', 'text', users.full_name, 'Full name', 'Ονοματεπώνυμο'),
      column('role', 'text', users.role, 'Role', 'Ρόλος'),
      column('is_active', 'boolean', users.is_active, 'Active', 'Ενεργός'),
      column(
        'last_login_at',
        'datetime',
        users.last_login_at,
        'Last sign-in (UTC)',
        'Τελευταία σύνδεση (UTC)',
      ),
      ...timestamps(users),
    ],
    joins: [],
  },
  results: {
    name: 'results',
    auditResource: 'GRADE',
    permission: 'grades:read',
    sheet: { en: 'Results', el: 'Αποτελέσματα' },
    table: courseResults,
    definition: {
      label: 'Result',
      // Results of deleted students or courses wait for their recompute to go: never shown.
      // (Subqueries, not the joined columns: counting reads the table without its joins.)
      filters: (query) => [
        sql`EXISTS (SELECT 1 FROM ${students} WHERE ${students.id} = ${courseResults.student_id} AND ${students.deleted_at} IS NULL)`,
        sql`EXISTS (SELECT 1 FROM ${courses} WHERE ${courses.id} = ${courseResults.course_id} AND ${courses.deleted_at} IS NULL)`,
        equalsFilter(courseResults.student_id, query.student_id),
        equalsFilter(courseResults.course_id, query.course_id),
        equalsFilter(courseResults.letter_grade, query.letter_grade),
      ],
    },
    listQuery: resultExportQuerySchema,
    columns: [
      idColumn(courseResults),
      ...resultStudent.columns,
      ...resultCourse.columns,
      column(
        'weighted_percentage',
        'number',
        courseResults.weighted_percentage,
        'Weighted %',
        'Σταθμισμένο %',
      ),
      column(
        'absence_penalty',
        'number',
        courseResults.absence_penalty,
        'Absence penalty',
        'Ποινή απουσιών',
      ),
      column('final_percentage', 'number', courseResults.final_percentage, 'Final %', 'Τελικό %'),
      column('letter_grade', 'text', courseResults.letter_grade, 'Letter', 'Χαρακτηρισμός'),
      column('grade_count', 'number', courseResults.grade_count, 'Grades', 'Βαθμοί'),
      column('present_count', 'number', courseResults.present_count, 'Present', 'Παρών'),
      column('late_count', 'number', courseResults.late_count, 'Late', 'Καθυστέρηση'),
      column('absent_count', 'number', courseResults.absent_count, 'Absent', 'Απών'),
      column('excused_count', 'number', courseResults.excused_count, 'Excused', 'Δικαιολογημένη'),
      column(
        'attendance_rate',
        'number',
        courseResults.attendance_rate,
        'Attendance %',
        'Παρουσίες %',
      ),
      column(
        'excused_rate',
        'number',
        courseResults.excused_rate,
        'Excused %',
        'Δικαιολογημένες %',
      ),
      column(
        'average_performance',
        'number',
        courseResults.average_performance,
        'Daily performance %',
        'Ημερήσια επίδοση %',
      ),
      column(
        'computed_at',
        'datetime',
        courseResults.computed_at,
        'Computed (UTC)',
        'Υπολογισμός (UTC)',
      ),
    ],
    joins: [resultStudent.join, resultCourse.join],
  },
};

/** Shown when the export includes deleted records. */
export const deletedAtColumn = (table: { deleted_at: PgColumn }): ExportColumn =>
  column('deleted_at', 'datetime', table.deleted_at, 'Deleted (UTC)', 'Διαγραφή (UTC)');

/** The columns as a writer needs them, headers in the requested language. */
export function sheetColumns(columns: ExportColumn[], lang: ExportLanguage): SheetColumn[] {
  return columns.map((item) => ({ key: item.key, type: item.type, header: item.header[lang] }));
}

/** The per-student report's parts (GET /exports/students/{id}/report). */
export const REPORT_PARTS = ['grades', 'attendance', 'highlights', 'results'] as const;
export const REPORT_STUDENT_SHEET: Label = { en: 'Student', el: 'Μαθητής' };
