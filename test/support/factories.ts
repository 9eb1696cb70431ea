import { SYSTEM_CONTEXT } from '../../src/platform/http/request-context.ts';
import type { Services } from '../../src/services.ts';

let sequence = 0;

/** A student made through the real service; unique ids and names unless overridden. */
export function makeStudent(
  services: Pick<Services, 'students'>,
  overrides: Partial<Parameters<Services['students']['create']>[0]> = {},
) {
  sequence += 1;
  return services.students.create(
    {
      student_id: `F-S${sequence}`,
      first_name: 'Ελένη',
      last_name: `Student${sequence}`,
      ...overrides,
    },
    SYSTEM_CONTEXT,
  );
}

/** A course made through the real service. */
export function makeCourse(
  services: Pick<Services, 'courses'>,
  overrides: Partial<Parameters<Services['courses']['create']>[0]> = {},
) {
  sequence += 1;
  return services.courses.create(
    {
      course_code: `F-C${sequence}`,
      course_name: `Course ${sequence}`,
      semester: 'Fall 2025',
      ...overrides,
    },
    SYSTEM_CONTEXT,
  );
}
