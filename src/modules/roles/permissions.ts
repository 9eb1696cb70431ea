/**
 * Permission keys are "resource:action". A role grants keys, "resource:*" or "*".
 * Every route names the one key it needs.
 */
export const PERMISSIONS = [
  'students:read',
  'students:write',
  'courses:read',
  'courses:write',
  'enrollments:read',
  'enrollments:write',
  'grades:read',
  'grades:write',
  'attendance:read',
  'attendance:write',
  'performance:read',
  'performance:write',
  'highlights:read',
  'highlights:write',
  'users:read',
  'users:write',
  'roles:read',
  'roles:write',
  'settings:read',
  'settings:write',
  'audit:read',
  'jobs:read',
  'jobs:create',
  'jobs:manage',
  // Admins only by default: one batch can write to every student (docs/DECISIONS.md).
  'emails:send',
] as const;

export type Permission = (typeof PERMISSIONS)[number];

export const BUILTIN_ROLES = {
  admin: {
    description: 'Full access, including users, roles, settings and audit',
    permissions: ['*'],
  },
  teacher: {
    description:
      'Reads the school; records enrollments, grades, attendance, performance and highlights',
    permissions: [
      'students:read',
      'courses:read',
      'enrollments:*',
      'grades:*',
      'attendance:*',
      'performance:*',
      'highlights:*',
      'settings:read',
      'jobs:read',
      'jobs:create',
    ],
  },
  viewer: {
    description: 'Reads the school, changes nothing',
    permissions: [
      'students:read',
      'courses:read',
      'enrollments:read',
      'grades:read',
      'attendance:read',
      'performance:read',
      'highlights:read',
      'settings:read',
    ],
  },
} as const satisfies Record<string, { description: string; permissions: readonly string[] }>;

export type BuiltinRole = keyof typeof BUILTIN_ROLES;

/** A grant is a permission key, "resource:*" or "*". */
export const GRANT_PATTERN = /^(\*|[a-z_]+:(\*|[a-z_]+))$/;

export function grants(granted: readonly string[], needed: Permission): boolean {
  const [resource] = needed.split(':');
  return granted.some((grant) => grant === '*' || grant === needed || grant === `${resource}:*`);
}
