import type { ReactNode } from 'react';
import type { common } from '../i18n/common.ts';
import { AuditLogPage } from '../pages/audit/AuditLogPage.tsx';
import { BackupsPage } from '../pages/backups/BackupsPage.tsx';
import { CourseDetailPage } from '../pages/courses/CourseDetailPage.tsx';
import { CourseFormPage } from '../pages/courses/CourseFormPage.tsx';
import { CoursesPage } from '../pages/courses/CoursesPage.tsx';
import { DashboardPage } from '../pages/dashboard/DashboardPage.tsx';
import { ExportsPage } from '../pages/exports/ExportsPage.tsx';
import { ImportPage } from '../pages/imports/ImportPage.tsx';
import { JobDetailPage } from '../pages/jobs/JobDetailPage.tsx';
import { JobsPage } from '../pages/jobs/JobsPage.tsx';
import { StudentDetailPage } from '../pages/students/StudentDetailPage.tsx';
import { StudentFormPage } from '../pages/students/StudentFormPage.tsx';
import { StudentsPage } from '../pages/students/StudentsPage.tsx';

type NavLabel = keyof typeof common.en;

export interface AppRoute {
  path: string;
  render(params: Record<string, string>): ReactNode;
  /** The permission the screen needs; the navigation hides what the role cannot open. */
  permission?: string;
  /** Shown in the main navigation under this label. */
  nav?: NavLabel;
}

/** Every screen of the app, in navigation order. */
export const ROUTES: AppRoute[] = [
  { path: '/', render: () => <DashboardPage />, nav: 'navDashboard' },
  {
    path: '/students',
    render: () => <StudentsPage />,
    nav: 'navStudents',
    permission: 'students:read',
  },
  { path: '/students/new', render: () => <StudentFormPage />, permission: 'students:write' },
  {
    path: '/students/:id/edit',
    render: ({ id }) => <StudentFormPage id={Number(id)} />,
    permission: 'students:write',
  },
  {
    path: '/students/:id',
    render: ({ id }) => <StudentDetailPage id={Number(id)} />,
    permission: 'students:read',
  },
  {
    path: '/courses',
    render: () => <CoursesPage />,
    nav: 'navCourses',
    permission: 'courses:read',
  },
  { path: '/courses/new', render: () => <CourseFormPage />, permission: 'courses:write' },
  {
    path: '/courses/:id/edit',
    render: ({ id }) => <CourseFormPage id={Number(id)} />,
    permission: 'courses:write',
  },
  {
    path: '/courses/:id',
    render: ({ id }) => <CourseDetailPage id={Number(id)} />,
    permission: 'courses:read',
  },
  { path: '/import', render: () => <ImportPage />, nav: 'navImport', permission: 'jobs:create' },
  { path: '/jobs', render: () => <JobsPage />, nav: 'navJobs', permission: 'jobs:read' },
  {
    path: '/jobs/:id',
    render: ({ id }) => <JobDetailPage id={id ?? ''} />,
    permission: 'jobs:read',
  },
  { path: '/audit', render: () => <AuditLogPage />, nav: 'navAudit', permission: 'audit:read' },
  // Each export checks its own list's read permission; the page offers the ones the role has.
  { path: '/exports', render: () => <ExportsPage />, nav: 'navExports' },
  // The permission the backup routes check (BACKUP_PERMISSION): admins only.
  {
    path: '/backups',
    render: () => <BackupsPage />,
    nav: 'navBackups',
    permission: 'settings:write',
  },
];
