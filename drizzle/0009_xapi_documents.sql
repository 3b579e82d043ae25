CREATE TABLE "xapi_documents" (
	"id" text PRIMARY KEY NOT NULL,
	"scope" text NOT NULL,
	"kind" text NOT NULL,
	"activity_id" text,
	"agent" text,
	"registration" uuid,
	"document_id" text NOT NULL,
	"content_type" text NOT NULL,
	"contents" "bytea" NOT NULL,
	"etag" text NOT NULL,
	"updated" timestamp with time zone NOT NULL,
	CONSTRAINT "xapi_documents_kind_check" CHECK ("xapi_documents"."kind" in ('state', 'activity_profile', 'agent_profile'))
);
--> statement-breakpoint
CREATE INDEX "xapi_documents_scope_idx" ON "xapi_documents" USING btree ("scope","updated");