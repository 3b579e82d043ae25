/**
 * The `xapi_attachments` table: attachment bytes stored once per `sha2` (Data §2.4.11), written
 * in the statements' own transaction and read for `GET /xapi/statements?attachments=true`.
 */
import { sql } from "drizzle-orm";
import { type Db, queryRows } from "../db/client.ts";
import type { AttachmentContent } from "./attachmentParts.ts";

type Executor = Pick<Db, "execute">;

/** Inserts contents not stored yet, in one statement; a `sha2` already stored is left as it is. */
export async function insertAttachmentContents(tx: Executor, contents: AttachmentContent[]): Promise<void> {
  const unique = [...new Map(contents.map((content) => [content.sha2, content])).values()];
  if (unique.length === 0) return;
  const rows = unique.map((content) => ({
    s: content.sha2,
    t: content.contentType,
    l: content.contents.length,
    c: content.contents.toString("base64"),
  }));
  await tx.execute(
    sql`insert into xapi_attachments (sha2, content_type, length, contents)
        select e->>'s', e->>'t', (e->>'l')::integer, decode(e->>'c', 'base64')
        from jsonb_array_elements(${JSON.stringify(rows)}::jsonb) as e
        on conflict (sha2) do nothing`,
  );
}

/** The stored contents among `sha2s` (lower-case hex), in the order asked; missing ones left out. */
export async function readAttachmentContents(db: Executor, sha2s: string[]): Promise<AttachmentContent[]> {
  const wanted = [...new Set(sha2s)];
  if (wanted.length === 0) return [];
  const rows = await queryRows<{ sha2: string; content_type: string; contents: Uint8Array }>(
    db,
    sql`select sha2, content_type, contents from xapi_attachments
        where sha2 in (select jsonb_array_elements_text(${JSON.stringify(wanted)}::jsonb))`,
  );
  const bySha2 = new Map(rows.map((row) => [row.sha2, row]));
  return wanted.flatMap((sha2) => {
    const row = bySha2.get(sha2);
    return row ? [{ sha2, contentType: row.content_type, contents: Buffer.from(row.contents) }] : [];
  });
}
