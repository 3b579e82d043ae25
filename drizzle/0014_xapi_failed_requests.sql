CREATE TABLE "xapi_failed_requests" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "xapi_failed_requests_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"at" timestamp with time zone NOT NULL,
	"method" text NOT NULL,
	"path" text NOT NULL,
	"query" text,
	"status" integer NOT NULL,
	"error_code" text,
	"message" text,
	"credential_key" text,
	"credential_status" text NOT NULL,
	"credential_id" uuid,
	"xapi_version" text,
	"content_type" text,
	"body" text,
	"body_bytes" bigint,
	"client_address" text,
	"request_id" text,
	CONSTRAINT "xapi_failed_requests_credential_status_check" CHECK ("xapi_failed_requests"."credential_status" in ('verified', 'unverified', 'none'))
);
--> statement-breakpoint
CREATE INDEX "xapi_failed_requests_at_idx" ON "xapi_failed_requests" USING btree ("at");