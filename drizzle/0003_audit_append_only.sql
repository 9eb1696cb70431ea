-- The chain starts from an all-zero hash.
INSERT INTO "audit_chain_head" ("id", "last_id", "last_hash", "anchor_id", "anchor_hash")
VALUES (1, 0, repeat('0', 64), 0, repeat('0', 64));
--> statement-breakpoint
-- Audit rows are append-only. Only the retention routine, which sets
-- registrar.audit_retention = 'on' for its own transaction, may delete them; nothing may
-- update them.
CREATE OR REPLACE FUNCTION audit_logs_append_only() RETURNS trigger AS $$
BEGIN
  IF TG_OP = 'DELETE' AND current_setting('registrar.audit_retention', true) = 'on' THEN
    RETURN OLD;
  END IF;
  RAISE EXCEPTION 'audit_logs is append-only: % refused', TG_OP
    USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
--> statement-breakpoint
CREATE TRIGGER audit_logs_append_only
BEFORE UPDATE OR DELETE ON "audit_logs"
FOR EACH ROW EXECUTE FUNCTION audit_logs_append_only();
--> statement-breakpoint
CREATE TRIGGER audit_logs_no_truncate
BEFORE TRUNCATE ON "audit_logs"
FOR EACH STATEMENT EXECUTE FUNCTION audit_logs_append_only();
--> statement-breakpoint
ALTER TABLE "audit_logs" ADD CONSTRAINT "audit_logs_action_known" CHECK ("action" IN (
  'CREATE', 'UPDATE', 'DELETE', 'BULK_CREATE', 'BULK_UPDATE', 'BULK_DELETE', 'IMPORT', 'EXPORT',
  'LOGIN', 'LOGOUT', 'PASSWORD_CHANGE', 'PERMISSION_CHANGE', 'BACKUP_CREATE', 'BACKUP_RESTORE',
  'CONFIG_CHANGE', 'VIEW', 'SEARCH', 'OTHER'));
--> statement-breakpoint
ALTER TABLE "audit_logs" ADD CONSTRAINT "audit_logs_resource_known" CHECK ("resource" IN (
  'STUDENT', 'COURSE', 'GRADE', 'ATTENDANCE', 'PERFORMANCE', 'ENROLLMENT', 'HIGHLIGHT',
  'SESSION', 'USER', 'SYSTEM', 'OTHER'));
