import type { ResourceService } from '../../platform/crud/resource.service.ts';
import type { ImportType } from './parsing/index.ts';

/** The services an import writes through (their table, response mapping and list cache). */
export type ImportServices = Record<
  'students' | 'courses' | 'enrollments' | 'grades' | 'attendance' | 'performances' | 'highlights',
  // biome-ignore lint/suspicious/noExplicitAny: one service per table, each with its own types
  ResourceService<any, any>
>;

/** Where one kind of import lands and how its records are recognised. */
export interface ImportTarget {
  service: keyof ImportServices;
  /** Columns that identify a record once references are resolved (the natural key). */
  keyColumns: string[];
  /** Other unique columns a different record may already hold (students' e-mail). */
  uniqueColumns: string[];
  /** student_id / course_code in the file become students.id / courses.id. */
  references: Array<'student' | 'course'>;
}

export const IMPORT_TARGETS: Record<ImportType, ImportTarget> = {
  students: {
    service: 'students',
    keyColumns: ['student_id'],
    uniqueColumns: ['email'],
    references: [],
  },
  courses: { service: 'courses', keyColumns: ['course_code'], uniqueColumns: [], references: [] },
  enrollments: {
    service: 'enrollments',
    keyColumns: ['student_id', 'course_id'],
    uniqueColumns: [],
    references: ['student', 'course'],
  },
  grades: {
    service: 'grades',
    keyColumns: ['student_id', 'course_id', 'assignment_name'],
    uniqueColumns: [],
    references: ['student', 'course'],
  },
  attendance: {
    service: 'attendance',
    keyColumns: ['student_id', 'course_id', 'date', 'period_number'],
    uniqueColumns: [],
    references: ['student', 'course'],
  },
  daily_performances: {
    service: 'performances',
    keyColumns: ['student_id', 'course_id', 'date', 'category'],
    uniqueColumns: [],
    references: ['student', 'course'],
  },
  highlights: {
    service: 'highlights',
    keyColumns: ['student_id', 'semester', 'highlight_text'],
    uniqueColumns: [],
    references: ['student'],
  },
};
