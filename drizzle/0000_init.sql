CREATE TABLE "api_credentials" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"name" text NOT NULL,
	"key" text NOT NULL,
	"secret_hash" text NOT NULL,
	"scopes" text[] DEFAULT '{all}'::text[] NOT NULL,
	"bootstrap" boolean DEFAULT false NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"revoked_at" timestamp with time zone,
	"last_used_at" timestamp with time zone,
	CONSTRAINT "api_credentials_key_key" UNIQUE("key")
);
--> statement-breakpoint
CREATE TABLE "lessons" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"cohort_id" text NOT NULL,
	"activity_id" text NOT NULL,
	"title" text NOT NULL,
	"url" text,
	"lesson_date" date NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "lessons_cohort_id_activity_id_key" UNIQUE("cohort_id","activity_id")
);
--> statement-breakpoint
CREATE TABLE "notifications" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"user_id" uuid NOT NULL,
	"lesson_id" uuid NOT NULL,
	"channel" text DEFAULT 'email' NOT NULL,
	"status" text DEFAULT 'pending' NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"error" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"sent_at" timestamp with time zone,
	CONSTRAINT "notifications_user_id_lesson_id_channel_key" UNIQUE("user_id","lesson_id","channel"),
	CONSTRAINT "notifications_channel_check" CHECK ("notifications"."channel" in ('email')),
	CONSTRAINT "notifications_status_check" CHECK ("notifications"."status" in ('pending', 'sent', 'failed'))
);
--> statement-breakpoint
CREATE TABLE "statements_flat" (
	"statement_id" uuid PRIMARY KEY NOT NULL,
	"actor_mbox" text,
	"actor_account_homepage" text,
	"actor_account_name" text,
	"actor_name" text,
	"user_id" uuid,
	"verb_id" text NOT NULL,
	"verb_display" text,
	"object_id" text NOT NULL,
	"object_type" text,
	"object_name" text,
	"result_success" boolean,
	"result_completion" boolean,
	"result_score_scaled" double precision,
	"result_score_raw" double precision,
	"result_duration_ms" bigint,
	"context_registration" uuid,
	"timestamp" timestamp with time zone NOT NULL,
	"stored" timestamp with time zone NOT NULL,
	"is_completion" boolean DEFAULT false NOT NULL,
	"voided" boolean DEFAULT false NOT NULL
);
--> statement-breakpoint
CREATE TABLE "statements_raw" (
	"id" uuid PRIMARY KEY NOT NULL,
	"seq" bigint GENERATED ALWAYS AS IDENTITY (sequence name "statements_raw_seq_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"payload" jsonb NOT NULL,
	"stored" timestamp with time zone NOT NULL,
	"credential_id" uuid,
	CONSTRAINT "statements_raw_seq_key" UNIQUE("seq")
);
--> statement-breakpoint
CREATE TABLE "task_status" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "task_status_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"task_name" text NOT NULL,
	"run_id" text NOT NULL,
	"status" text NOT NULL,
	"attempt" integer DEFAULT 1 NOT NULL,
	"started_at" timestamp with time zone DEFAULT now() NOT NULL,
	"finished_at" timestamp with time zone,
	"detail" jsonb,
	"error" text,
	CONSTRAINT "task_status_status_check" CHECK ("task_status"."status" in ('started', 'succeeded', 'failed', 'retrying'))
);
--> statement-breakpoint
CREATE TABLE "users" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"name" text NOT NULL,
	"email" text NOT NULL,
	"avatar" text NOT NULL,
	"cohort_id" text NOT NULL,
	"timezone" text DEFAULT 'UTC' NOT NULL,
	"reminders_enabled" boolean DEFAULT true NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "users_avatar_key" UNIQUE("avatar"),
	CONSTRAINT "users_avatar_format" CHECK ("users"."avatar" ~ '^[a-z0-9_-]{3,32}$')
);
--> statement-breakpoint
ALTER TABLE "notifications" ADD CONSTRAINT "notifications_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "notifications" ADD CONSTRAINT "notifications_lesson_id_lessons_id_fk" FOREIGN KEY ("lesson_id") REFERENCES "public"."lessons"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "statements_flat" ADD CONSTRAINT "statements_flat_statement_id_statements_raw_id_fk" FOREIGN KEY ("statement_id") REFERENCES "public"."statements_raw"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "statements_raw" ADD CONSTRAINT "statements_raw_credential_id_api_credentials_id_fk" FOREIGN KEY ("credential_id") REFERENCES "public"."api_credentials"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "lessons_lesson_date_idx" ON "lessons" USING btree ("lesson_date");--> statement-breakpoint
CREATE INDEX "lessons_activity_id_idx" ON "lessons" USING btree ("activity_id");--> statement-breakpoint
CREATE INDEX "notifications_lesson_id_idx" ON "notifications" USING btree ("lesson_id");--> statement-breakpoint
CREATE INDEX "notifications_status_idx" ON "notifications" USING btree ("status","created_at");--> statement-breakpoint
CREATE INDEX "statements_flat_user_id_idx" ON "statements_flat" USING btree ("user_id");--> statement-breakpoint
CREATE INDEX "statements_flat_actor_mbox_idx" ON "statements_flat" USING btree ("actor_mbox");--> statement-breakpoint
CREATE INDEX "statements_flat_actor_account_idx" ON "statements_flat" USING btree ("actor_account_homepage","actor_account_name");--> statement-breakpoint
CREATE INDEX "statements_flat_object_id_idx" ON "statements_flat" USING btree ("object_id");--> statement-breakpoint
CREATE INDEX "statements_flat_timestamp_idx" ON "statements_flat" USING btree ("timestamp");--> statement-breakpoint
CREATE INDEX "statements_flat_stored_idx" ON "statements_flat" USING btree ("stored");--> statement-breakpoint
CREATE INDEX "statements_flat_completions_idx" ON "statements_flat" USING btree ("object_id","actor_mbox","actor_account_name") WHERE "statements_flat"."is_completion" and not "statements_flat"."voided";--> statement-breakpoint
CREATE INDEX "statements_raw_stored_idx" ON "statements_raw" USING btree ("stored");--> statement-breakpoint
CREATE INDEX "task_status_task_name_started_at_idx" ON "task_status" USING btree ("task_name","started_at" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "task_status_run_id_idx" ON "task_status" USING btree ("run_id");--> statement-breakpoint
CREATE UNIQUE INDEX "users_email_lower_key" ON "users" USING btree (lower("email"));--> statement-breakpoint
CREATE INDEX "users_cohort_id_idx" ON "users" USING btree ("cohort_id");