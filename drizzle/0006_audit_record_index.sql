DROP INDEX "idx_audit_resource_record";--> statement-breakpoint
CREATE INDEX "idx_audit_resource_record" ON "audit_logs" USING btree ("resource","resource_id","timestamp","id");