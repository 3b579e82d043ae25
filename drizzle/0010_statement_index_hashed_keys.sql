-- Query keys become the first 128 bits of their SHA-256, as a uuid (statementIndexKeys.ts, hashKey):
-- the index is half the size of the text keys, any IRI length fits, and the insert path writes
-- with a plain INSERT. The text keys cannot be converted in place (long ones were stored as their
-- hash already), so the rows are rebuilt from statements_raw: the marker below is removed, and the
-- next `cohort-lrs migrate` (or embedded start) re-indexes every stored statement
-- (indexStoredStatements.ts), as it did when the index first arrived (0008).
DROP TABLE "statement_index";--> statement-breakpoint
CREATE TABLE "statement_index" (
	"key" uuid NOT NULL,
	"stored" timestamp with time zone NOT NULL,
	"statement_id" uuid NOT NULL,
	CONSTRAINT "statement_index_pkey" PRIMARY KEY("key","stored","statement_id")
);--> statement-breakpoint
DELETE FROM "settings" WHERE "key" = 'statement_index_backfilled';
