CREATE TABLE "jobs" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"job_type" text NOT NULL,
	"status" text DEFAULT 'PENDING' NOT NULL,
	"priority" integer DEFAULT 5 NOT NULL,
	"user_id" integer,
	"metadata" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"progress" jsonb DEFAULT '{"current":0,"total":0,"percentage":0,"message":null,"processed_items":0,"failed_items":0,"skipped_items":0}'::jsonb NOT NULL,
	"result" jsonb,
	"error_message" text,
	"attempts" integer DEFAULT 0 NOT NULL,
	"max_attempts" integer DEFAULT 3 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"started_at" timestamp with time zone,
	"completed_at" timestamp with time zone,
	"expires_at" timestamp with time zone,
	"cancel_requested_at" timestamp with time zone,
	"run_after" timestamp with time zone DEFAULT now() NOT NULL,
	"worker_id" text
);
--> statement-breakpoint
CREATE INDEX "idx_jobs_pickup" ON "jobs" USING btree ("priority" DESC NULLS LAST,"created_at") WHERE "jobs"."status" = 'PENDING';--> statement-breakpoint
CREATE INDEX "idx_jobs_user_created" ON "jobs" USING btree ("user_id","created_at" desc);--> statement-breakpoint
CREATE INDEX "idx_jobs_status_created" ON "jobs" USING btree ("status","created_at" desc);--> statement-breakpoint
CREATE INDEX "idx_jobs_type" ON "jobs" USING btree ("job_type");--> statement-breakpoint
CREATE INDEX "idx_jobs_expires" ON "jobs" USING btree ("expires_at");