CREATE TABLE "audit_pending" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"action" text NOT NULL,
	"resource" text NOT NULL,
	"resource_id" text,
	"user_id" integer,
	"user_email" text,
	"ip_address" text,
	"user_agent" text,
	"details" jsonb,
	"success" boolean DEFAULT true NOT NULL,
	"error_message" text,
	"timestamp" timestamp with time zone NOT NULL,
	"request_id" text,
	"old_values" jsonb,
	"new_values" jsonb
);
--> statement-breakpoint
-- The same checks as audit_logs: a bad entry must fail in its writer's transaction, not
-- later in the sealer, where it would stop the chain.
ALTER TABLE "audit_pending" ADD CONSTRAINT "audit_pending_action_known" CHECK ("action" IN (
  'CREATE', 'UPDATE', 'DELETE', 'BULK_CREATE', 'BULK_UPDATE', 'BULK_DELETE', 'IMPORT', 'EXPORT',
  'LOGIN', 'LOGOUT', 'PASSWORD_CHANGE', 'PERMISSION_CHANGE', 'BACKUP_CREATE', 'BACKUP_RESTORE',
  'CONFIG_CHANGE', 'VIEW', 'SEARCH', 'OTHER'));
--> statement-breakpoint
ALTER TABLE "audit_pending" ADD CONSTRAINT "audit_pending_resource_known" CHECK ("resource" IN (
  'STUDENT', 'COURSE', 'GRADE', 'ATTENDANCE', 'PERFORMANCE', 'ENROLLMENT', 'HIGHLIGHT',
  'SESSION', 'USER', 'SYSTEM', 'OTHER'));
--> statement-breakpoint
-- Pending entries are as untouchable as sealed ones: only the sealer, which sets
-- registrar.audit_sealer = 'on' for its own transaction, may delete them (moving them into
-- audit_logs); nothing may update them.
CREATE OR REPLACE FUNCTION audit_pending_guard() RETURNS trigger AS $$
BEGIN
  IF TG_OP = 'DELETE' AND current_setting('registrar.audit_sealer', true) = 'on' THEN
    RETURN OLD;
  END IF;
  RAISE EXCEPTION 'audit_pending is append-only: % refused', TG_OP
    USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
--> statement-breakpoint
CREATE TRIGGER audit_pending_guard
BEFORE UPDATE OR DELETE ON "audit_pending"
FOR EACH ROW EXECUTE FUNCTION audit_pending_guard();
--> statement-breakpoint
CREATE TRIGGER audit_pending_no_truncate
BEFORE TRUNCATE ON "audit_pending"
FOR EACH STATEMENT EXECUTE FUNCTION audit_pending_guard();
