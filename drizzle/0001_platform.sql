CREATE TABLE "attendance" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "attendance_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"student_id" integer NOT NULL,
	"course_id" integer NOT NULL,
	"date" date NOT NULL,
	"status" text NOT NULL,
	"period_number" integer DEFAULT 1 NOT NULL,
	"notes" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"deleted_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "course_enrollments" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "course_enrollments_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"student_id" integer NOT NULL,
	"course_id" integer NOT NULL,
	"enrollment_date" date,
	"status" text DEFAULT 'active' NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"deleted_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "courses" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "courses_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"course_code" text NOT NULL,
	"course_name" text NOT NULL,
	"semester" text NOT NULL,
	"credits" integer DEFAULT 0 NOT NULL,
	"description" text,
	"evaluation_rules" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"absence_penalty" double precision DEFAULT 0 NOT NULL,
	"hours_per_week" double precision DEFAULT 0 NOT NULL,
	"teaching_schedule" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"deleted_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "daily_performances" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "daily_performances_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"student_id" integer NOT NULL,
	"course_id" integer NOT NULL,
	"date" date NOT NULL,
	"category" text NOT NULL,
	"score" double precision NOT NULL,
	"max_score" double precision DEFAULT 10 NOT NULL,
	"notes" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"deleted_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "grades" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "grades_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"student_id" integer NOT NULL,
	"course_id" integer NOT NULL,
	"assignment_name" text NOT NULL,
	"category" text,
	"grade" double precision NOT NULL,
	"max_grade" double precision DEFAULT 100 NOT NULL,
	"weight" double precision DEFAULT 1 NOT NULL,
	"date_assigned" date,
	"date_submitted" date,
	"notes" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"deleted_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "highlights" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "highlights_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"student_id" integer NOT NULL,
	"semester" text NOT NULL,
	"rating" integer,
	"category" text,
	"highlight_text" text NOT NULL,
	"is_positive" boolean DEFAULT true NOT NULL,
	"date_created" date,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"deleted_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "refresh_tokens" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"user_id" integer NOT NULL,
	"family_id" uuid NOT NULL,
	"token_hash" text NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"revoked_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"ip_address" text,
	"user_agent" text,
	CONSTRAINT "refresh_tokens_token_hash_unique" UNIQUE("token_hash")
);
--> statement-breakpoint
CREATE TABLE "roles" (
	"name" text PRIMARY KEY NOT NULL,
	"description" text DEFAULT '' NOT NULL,
	"permissions" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"is_builtin" boolean DEFAULT false NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "settings" (
	"key" text PRIMARY KEY NOT NULL,
	"value" jsonb NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_by" integer
);
--> statement-breakpoint
CREATE TABLE "sign_in_failures" (
	"email" text PRIMARY KEY NOT NULL,
	"failure_count" integer DEFAULT 0 NOT NULL,
	"window_started_at" timestamp with time zone NOT NULL,
	"locked_until" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "students" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "students_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"student_id" text NOT NULL,
	"first_name" text NOT NULL,
	"last_name" text NOT NULL,
	"email" text,
	"father_name" text,
	"mobile_phone" text,
	"phone" text,
	"study_year" integer,
	"enrollment_date" date,
	"is_active" boolean DEFAULT true NOT NULL,
	"academic_year" text,
	"class_division" text,
	"health_issue" text,
	"note" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"deleted_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "users" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "users_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"email" text NOT NULL,
	"full_name" text NOT NULL,
	"password_hash" text NOT NULL,
	"role" text NOT NULL,
	"is_active" boolean DEFAULT true NOT NULL,
	"must_change_password" boolean DEFAULT false NOT NULL,
	"password_changed_at" timestamp with time zone,
	"last_login_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"deleted_at" timestamp with time zone
);
--> statement-breakpoint
ALTER TABLE "attendance" ADD CONSTRAINT "attendance_student_id_students_id_fk" FOREIGN KEY ("student_id") REFERENCES "public"."students"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "attendance" ADD CONSTRAINT "attendance_course_id_courses_id_fk" FOREIGN KEY ("course_id") REFERENCES "public"."courses"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "course_enrollments" ADD CONSTRAINT "course_enrollments_student_id_students_id_fk" FOREIGN KEY ("student_id") REFERENCES "public"."students"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "course_enrollments" ADD CONSTRAINT "course_enrollments_course_id_courses_id_fk" FOREIGN KEY ("course_id") REFERENCES "public"."courses"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "daily_performances" ADD CONSTRAINT "daily_performances_student_id_students_id_fk" FOREIGN KEY ("student_id") REFERENCES "public"."students"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "daily_performances" ADD CONSTRAINT "daily_performances_course_id_courses_id_fk" FOREIGN KEY ("course_id") REFERENCES "public"."courses"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "grades" ADD CONSTRAINT "grades_student_id_students_id_fk" FOREIGN KEY ("student_id") REFERENCES "public"."students"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "grades" ADD CONSTRAINT "grades_course_id_courses_id_fk" FOREIGN KEY ("course_id") REFERENCES "public"."courses"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "highlights" ADD CONSTRAINT "highlights_student_id_students_id_fk" FOREIGN KEY ("student_id") REFERENCES "public"."students"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "refresh_tokens" ADD CONSTRAINT "refresh_tokens_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "users" ADD CONSTRAINT "users_role_roles_name_fk" FOREIGN KEY ("role") REFERENCES "public"."roles"("name") ON DELETE no action ON UPDATE cascade;--> statement-breakpoint
CREATE UNIQUE INDEX "attendance_student_course_date_period_unique" ON "attendance" USING btree ("student_id","course_id","date","period_number");--> statement-breakpoint
CREATE INDEX "idx_attendance_course_date" ON "attendance" USING btree ("course_id","date");--> statement-breakpoint
CREATE INDEX "idx_attendance_status" ON "attendance" USING btree ("status");--> statement-breakpoint
CREATE UNIQUE INDEX "course_enrollments_student_course_unique" ON "course_enrollments" USING btree ("student_id","course_id");--> statement-breakpoint
CREATE INDEX "idx_course_enrollments_course" ON "course_enrollments" USING btree ("course_id");--> statement-breakpoint
CREATE INDEX "idx_course_enrollments_status" ON "course_enrollments" USING btree ("status");--> statement-breakpoint
CREATE UNIQUE INDEX "courses_course_code_unique" ON "courses" USING btree ("course_code");--> statement-breakpoint
CREATE INDEX "idx_courses_semester" ON "courses" USING btree ("semester");--> statement-breakpoint
CREATE INDEX "idx_courses_search_trgm" ON "courses" USING gin (("course_code" || ' ' || "course_name") gin_trgm_ops);--> statement-breakpoint
CREATE INDEX "idx_daily_performances_student_course" ON "daily_performances" USING btree ("student_id","course_id");--> statement-breakpoint
CREATE INDEX "idx_daily_performances_course_date" ON "daily_performances" USING btree ("course_id","date");--> statement-breakpoint
CREATE INDEX "idx_daily_performances_category" ON "daily_performances" USING btree ("category");--> statement-breakpoint
CREATE INDEX "idx_grades_student_course" ON "grades" USING btree ("student_id","course_id");--> statement-breakpoint
CREATE INDEX "idx_grades_course" ON "grades" USING btree ("course_id");--> statement-breakpoint
CREATE INDEX "idx_grades_category" ON "grades" USING btree ("category");--> statement-breakpoint
CREATE INDEX "idx_grades_date_assigned" ON "grades" USING btree ("date_assigned");--> statement-breakpoint
CREATE INDEX "idx_highlights_student" ON "highlights" USING btree ("student_id");--> statement-breakpoint
CREATE INDEX "idx_highlights_semester" ON "highlights" USING btree ("semester");--> statement-breakpoint
CREATE INDEX "idx_highlights_category" ON "highlights" USING btree ("category");--> statement-breakpoint
CREATE INDEX "idx_refresh_tokens_user" ON "refresh_tokens" USING btree ("user_id");--> statement-breakpoint
CREATE INDEX "idx_refresh_tokens_family" ON "refresh_tokens" USING btree ("family_id");--> statement-breakpoint
CREATE UNIQUE INDEX "students_student_id_unique" ON "students" USING btree ("student_id");--> statement-breakpoint
CREATE UNIQUE INDEX "students_email_unique" ON "students" USING btree ("email");--> statement-breakpoint
CREATE INDEX "idx_students_last_first" ON "students" USING btree ("last_name","first_name");--> statement-breakpoint
CREATE INDEX "idx_students_study_year" ON "students" USING btree ("study_year");--> statement-breakpoint
CREATE INDEX "idx_students_academic_year" ON "students" USING btree ("academic_year");--> statement-breakpoint
CREATE INDEX "idx_students_class_division" ON "students" USING btree ("class_division");--> statement-breakpoint
CREATE INDEX "idx_students_is_active" ON "students" USING btree ("is_active");--> statement-breakpoint
CREATE INDEX "idx_students_search_trgm" ON "students" USING gin (("first_name" || ' ' || "last_name" || ' ' || coalesce("email", '') || ' ' || "student_id") gin_trgm_ops);--> statement-breakpoint
CREATE UNIQUE INDEX "users_email_unique" ON "users" USING btree ("email");--> statement-breakpoint
CREATE INDEX "idx_users_role" ON "users" USING btree ("role");--> statement-breakpoint
CREATE INDEX "idx_users_full_name" ON "users" USING btree (lower("full_name"));