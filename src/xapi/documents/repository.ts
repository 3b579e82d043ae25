/**
 * The only code that touches `xapi_documents`. Every write but an unconditional State PUT (one
 * upsert: the body replaces whatever is stored) runs in one transaction that locks the
 * document's row (`SELECT … FOR UPDATE`) before it checks preconditions and computes what to
 * store, so two writers of one document are serialised: a merge never loses the other's keys,
 * and an `If-Match` writer that lost the race gets 412, never a silent overwrite. A first write
 * that races another first write (no row to lock yet) finds the other's row on conflict and
 * decides again against it.
 */
import { and, asc, eq, gt, type SQL } from "drizzle-orm";
import type { Db } from "../../db/client.ts";
import { xapiDocuments } from "../../db/schema.ts";
import { type DocumentAddress, documentKey, scopeKey } from "./address.ts";
import { checkJsonBody, type DocumentContents, etagOf, mergeDocuments } from "./contents.ts";
import { type ConcurrencyHeaderRule, checkPreconditions, type Preconditions } from "./preconditions.ts";

export interface StoredDocument extends DocumentContents {
  etag: string;
  updated: Date;
}

type SingleAddress = DocumentAddress & { documentId: string };

export interface WriteRequest {
  method: "PUT" | "POST";
  document: DocumentContents;
  preconditions: Preconditions;
  /** When a PUT must carry If-Match or If-None-Match. */
  concurrencyHeader: ConcurrencyHeaderRule;
}

const columns = {
  contentType: xapiDocuments.contentType,
  contents: xapiDocuments.contents,
  etag: xapiDocuments.etag,
  updated: xapiDocuments.updated,
};

/** One document, or undefined. */
export async function getDocument(db: Db, address: SingleAddress): Promise<StoredDocument | undefined> {
  const [row] = await db
    .select(columns)
    .from(xapiDocuments)
    .where(eq(xapiDocuments.id, documentKey(address)));
  return row;
}

/**
 * The ids of the documents in a context, oldest update first; `since`: only those updated after
 * it. Without a registration, a State context covers the documents of every registration.
 */
export async function listDocumentIds(db: Db, address: DocumentAddress, since?: Date): Promise<string[]> {
  const rows = await db
    .select({ documentId: xapiDocuments.documentId })
    .from(xapiDocuments)
    .where(and(...contextFilter(address), since ? gt(xapiDocuments.updated, since) : undefined))
    .orderBy(asc(xapiDocuments.updated), asc(xapiDocuments.documentId));
  return rows.map((row) => row.documentId);
}

/** Deletes every document of a context (State without `stateId`); returns how many. */
export async function deleteDocuments(db: Db, address: DocumentAddress): Promise<number> {
  const rows = await db
    .delete(xapiDocuments)
    .where(and(...contextFilter(address)))
    .returning({ id: xapiDocuments.id });
  return rows.length;
}

function contextFilter(address: DocumentAddress): SQL[] {
  const filters = [eq(xapiDocuments.scope, scopeKey(address))];
  if (address.registration) filters.push(eq(xapiDocuments.registration, address.registration));
  return filters;
}

/** PUT (replace) or POST (merge) one document, under the request's preconditions. */
export async function writeDocument(
  db: Db,
  address: SingleAddress,
  request: WriteRequest,
): Promise<StoredDocument> {
  checkJsonBody(request.document);
  const id = documentKey(address);
  const row = (stored: StoredDocument) => ({
    id,
    scope: scopeKey(address),
    kind: address.kind,
    activityId: address.activityId,
    agent: address.agent,
    registration: address.registration,
    documentId: address.documentId,
    ...stored,
  });
  const { ifMatch, ifNoneMatch } = request.preconditions;
  if (request.method === "PUT" && request.concurrencyHeader === "optional" && !ifMatch && !ifNoneMatch) {
    // An unconditional replace (a 1.0.3 State PUT, as content saves its suspend data): whatever
    // is stored, the body wins, so one upsert does it, in one round trip.
    const stored: StoredDocument = {
      ...request.document,
      etag: etagOf(request.document.contents),
      updated: new Date(),
    };
    await db
      .insert(xapiDocuments)
      .values(row(stored))
      .onConflictDoUpdate({ target: xapiDocuments.id, set: stored });
    return stored;
  }
  return db.transaction(async (tx) => {
    // At most twice: a second pass only follows a first insert that lost to a concurrent one.
    for (let attempt = 0; ; attempt++) {
      const [current] = await tx
        .select(columns)
        .from(xapiDocuments)
        .where(eq(xapiDocuments.id, id))
        .for("update");
      checkPreconditions(
        current?.etag,
        request.preconditions,
        request.method === "PUT" ? request.concurrencyHeader : "optional",
      );
      const next = request.method === "PUT" ? request.document : mergeDocuments(current, request.document);
      const stored: StoredDocument = { ...next, etag: etagOf(next.contents), updated: new Date() };
      if (current) {
        await tx.update(xapiDocuments).set(stored).where(eq(xapiDocuments.id, id));
        return stored;
      }
      const inserted = await tx
        .insert(xapiDocuments)
        .values(row(stored))
        .onConflictDoNothing()
        .returning({ id: xapiDocuments.id });
      if (inserted.length > 0) return stored;
      if (attempt > 0) throw new Error(`document ${id}: inserted concurrently yet not found`);
    }
  });
}

/** Deletes one document under the request's preconditions; deleting nothing is not an error. */
export async function deleteDocument(
  db: Db,
  address: SingleAddress,
  preconditions: Preconditions,
): Promise<void> {
  const id = documentKey(address);
  await db.transaction(async (tx) => {
    const [current] = await tx
      .select({ etag: xapiDocuments.etag })
      .from(xapiDocuments)
      .where(eq(xapiDocuments.id, id))
      .for("update");
    checkPreconditions(current?.etag, preconditions, "optional");
    if (current) await tx.delete(xapiDocuments).where(eq(xapiDocuments.id, id));
  });
}
