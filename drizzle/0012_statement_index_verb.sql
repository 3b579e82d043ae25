-- Every query-index row carries its statement's verb key (schema.ts, statement_index.verb), so a
-- verb filter beside another key narrows that key's entries as they are read (queryStatements.ts).
-- The rows already there get it from their statement here, the same way the insert path computes
-- it (writeStatementIndex.ts): the hash of 'verb:<IRI>', or the nil uuid for a statement whose
-- object is a StatementRef. The key is dropped first so the update does not maintain it.
ALTER TABLE "statement_index" DROP CONSTRAINT "statement_index_pkey";
--> statement-breakpoint
ALTER TABLE "statement_index" ADD COLUMN "verb" uuid DEFAULT '00000000-0000-0000-0000-000000000000' NOT NULL;--> statement-breakpoint
UPDATE "statement_index" i
SET "verb" = encode(substr(sha256(convert_to('verb:' || (r.payload->'verb'->>'id'), 'UTF8')), 1, 16), 'hex')::uuid
FROM "statements_raw" r
WHERE r.id = i.statement_id AND r.payload->'object'->>'objectType' IS DISTINCT FROM 'StatementRef';--> statement-breakpoint
ALTER TABLE "statement_index" ADD CONSTRAINT "statement_index_pkey" PRIMARY KEY("key","stored","statement_id","verb");
