CREATE TABLE "import_preview_rows" (
	"preview_id" uuid NOT NULL,
	"row_number" integer NOT NULL,
	"action" text NOT NULL,
	"status" text NOT NULL,
	"data" jsonb NOT NULL,
	"issues" jsonb DEFAULT '[]'::jsonb NOT NULL,
	CONSTRAINT "import_preview_rows_preview_id_row_number_pk" PRIMARY KEY("preview_id","row_number")
);
--> statement-breakpoint
CREATE TABLE "import_previews" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"user_id" integer NOT NULL,
	"import_type" text NOT NULL,
	"file_name" text NOT NULL,
	"file_size" integer NOT NULL,
	"file" "bytea" NOT NULL,
	"options" jsonb NOT NULL,
	"detected" jsonb NOT NULL,
	"summary" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"job_id" uuid
);
--> statement-breakpoint
ALTER TABLE "import_preview_rows" ADD CONSTRAINT "import_preview_rows_preview_id_import_previews_id_fk" FOREIGN KEY ("preview_id") REFERENCES "public"."import_previews"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "idx_import_preview_rows_status" ON "import_preview_rows" USING btree ("preview_id","status","row_number");--> statement-breakpoint
CREATE INDEX "idx_import_previews_expires" ON "import_previews" USING btree ("expires_at");