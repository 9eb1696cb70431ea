CREATE TABLE "audit_chain_head" (
	"id" integer PRIMARY KEY NOT NULL,
	"last_id" bigint NOT NULL,
	"last_hash" text NOT NULL,
	"anchor_id" bigint NOT NULL,
	"anchor_hash" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "audit_logs" (
	"id" bigint PRIMARY KEY NOT NULL,
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
	"new_values" jsonb,
	"prev_hash" text NOT NULL,
	"hash" text NOT NULL
);
--> statement-breakpoint
CREATE INDEX "idx_audit_user_action" ON "audit_logs" USING btree ("user_id","action","timestamp");--> statement-breakpoint
CREATE INDEX "idx_audit_resource_action" ON "audit_logs" USING btree ("resource","action","timestamp");--> statement-breakpoint
CREATE INDEX "idx_audit_timestamp_action" ON "audit_logs" USING btree ("timestamp","action");--> statement-breakpoint
CREATE INDEX "idx_audit_resource_record" ON "audit_logs" USING btree ("resource","resource_id","id");--> statement-breakpoint
CREATE INDEX "idx_audit_request_id" ON "audit_logs" USING btree ("request_id");--> statement-breakpoint
CREATE INDEX "idx_audit_user_email" ON "audit_logs" USING btree ("user_email");