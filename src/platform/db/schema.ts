// Every table, for Drizzle's relational queries and for drizzle-kit's migration generator.
export { attendance } from '../../modules/attendance/attendance.table.ts';
export { auditChainHead, auditLogs, auditPending } from '../../modules/audit/audit.table.ts';
export { refreshTokens, signInFailures } from '../../modules/auth/auth.table.ts';
export { courses } from '../../modules/courses/courses.table.ts';
export { emailDeliveries } from '../../modules/emails/emails.table.ts';
export { courseEnrollments } from '../../modules/enrollments/enrollments.table.ts';
export { grades } from '../../modules/grades/grades.table.ts';
export { highlights } from '../../modules/highlights/highlights.table.ts';
export { importPreviewRows, importPreviews } from '../../modules/imports/imports.table.ts';
export { jobs } from '../../modules/jobs/jobs.table.ts';
export { dailyPerformances } from '../../modules/performances/performances.table.ts';
export { courseResults } from '../../modules/results/results.table.ts';
export { roles } from '../../modules/roles/roles.table.ts';
export { sessionImports } from '../../modules/sessions/sessions.table.ts';
export { settings } from '../../modules/settings/settings.table.ts';
export { students } from '../../modules/students/students.table.ts';
export { users } from '../../modules/users/users.table.ts';
