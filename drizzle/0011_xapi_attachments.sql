CREATE TABLE "xapi_attachments" (
	"sha2" text PRIMARY KEY NOT NULL,
	"content_type" text NOT NULL,
	"length" integer NOT NULL,
	"contents" "bytea" NOT NULL,
	"created" timestamp with time zone DEFAULT now() NOT NULL
);
