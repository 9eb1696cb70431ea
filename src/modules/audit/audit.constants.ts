/** The 18 audit actions, stored as these strings (a contract with scripts and reports). */
export const AUDIT_ACTIONS = [
  'CREATE',
  'UPDATE',
  'DELETE',
  'BULK_CREATE',
  'BULK_UPDATE',
  'BULK_DELETE',
  'IMPORT',
  'EXPORT',
  'LOGIN',
  'LOGOUT',
  'PASSWORD_CHANGE',
  'PERMISSION_CHANGE',
  'BACKUP_CREATE',
  'BACKUP_RESTORE',
  'CONFIG_CHANGE',
  'VIEW',
  'SEARCH',
  'OTHER',
] as const;

export type AuditAction = (typeof AUDIT_ACTIONS)[number];

/** The 11 audit resources. */
export const AUDIT_RESOURCES = [
  'STUDENT',
  'COURSE',
  'GRADE',
  'ATTENDANCE',
  'PERFORMANCE',
  'ENROLLMENT',
  'HIGHLIGHT',
  'SESSION',
  'USER',
  'SYSTEM',
  'OTHER',
] as const;

export type AuditResource = (typeof AUDIT_RESOURCES)[number];
