-- The learners page (/ui/learners): substring search over name, email and avatar through a
-- trigram index (pg_trgm, a trusted extension in PostgreSQL 13+: the database's owner may create
-- it), and keyset pages in name order, of everyone or of one cohort. The cohort index becomes
-- (cohort_id, name, id), which serves every look-up the single-column one did.
CREATE EXTENSION IF NOT EXISTS pg_trgm;--> statement-breakpoint
DROP INDEX "users_cohort_id_idx";--> statement-breakpoint
CREATE INDEX "users_cohort_id_name_id_idx" ON "users" USING btree ("cohort_id","name","id");--> statement-breakpoint
CREATE INDEX "users_name_id_idx" ON "users" USING btree ("name","id");--> statement-breakpoint
CREATE INDEX "users_search_idx" ON "users" USING gin (lower("name" || chr(10) || "email" || chr(10) || "avatar") gin_trgm_ops);