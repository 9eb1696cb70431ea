DROP INDEX "idx_students_last_first";--> statement-breakpoint
CREATE INDEX "idx_students_last_name_id" ON "students" USING btree ("last_name","id");