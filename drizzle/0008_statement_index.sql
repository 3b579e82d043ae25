CREATE TABLE "statement_index" (
	"key" text NOT NULL,
	"stored" timestamp with time zone NOT NULL,
	"statement_id" uuid NOT NULL,
	CONSTRAINT "statement_index_pkey" PRIMARY KEY("key","stored","statement_id")
);
