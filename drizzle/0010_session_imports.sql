CREATE TABLE "session_imports" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"user_id" integer NOT NULL,
	"semester" text NOT NULL,
	"bundle" jsonb NOT NULL,
	"merge_strategy" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"job_id" uuid
);
--> statement-breakpoint
CREATE INDEX "idx_session_imports_created" ON "session_imports" USING btree ("created_at");