ALTER TABLE "import_preview_rows" ADD COLUMN "duplicate_of" integer;--> statement-breakpoint
ALTER TABLE "import_previews" DROP COLUMN "file";