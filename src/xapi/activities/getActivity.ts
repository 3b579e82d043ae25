/**
 * The Activities resource (xAPI Communication §2.4): an Activity with the canonical definition
 * this LRS builds from the statements whose object it was. Built when asked, so storing
 * statements pays nothing for it: the flat rows (written by the worker) find the statements
 * through their `object_id` index, and the definitions are merged oldest first (in the order the LRS stored them): a later
 * statement's `type`, `moreInfo`, interaction properties and extensions replace earlier ones,
 * while language maps (`name`, `description`) are unioned, a later text winning per language.
 * The most recent `MAX_DEFINITIONS_MERGED` definitions take part.
 */
import { sql } from "drizzle-orm";
import { type Db, queryRows } from "../../db/client.ts";
import type { ActivityDefinition } from "../validateStatement.ts";

export interface ActivityObject {
  objectType: "Activity";
  id: string;
  definition?: ActivityDefinition;
}

export const MAX_DEFINITIONS_MERGED = 1000;

const LANGUAGE_MAPS = new Set(["name", "description"]);

/** Merges definitions, oldest first, as the module comment says. Pure. */
export function mergeDefinitions(definitions: ActivityDefinition[]): ActivityDefinition | undefined {
  if (definitions.length === 0) return undefined;
  const merged: Record<string, unknown> = {};
  for (const definition of definitions) {
    for (const [key, value] of Object.entries(definition)) {
      const previous = merged[key];
      merged[key] =
        LANGUAGE_MAPS.has(key) && isMap(previous) && isMap(value) ? { ...previous, ...value } : value;
    }
  }
  return merged as ActivityDefinition;
}

function isMap(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export async function getActivity(db: Db, activityId: string): Promise<ActivityObject> {
  const rows = await queryRows<{ definition: ActivityDefinition }>(
    db,
    sql`
    select r.payload->'object'->'definition' as definition
    from statements_flat f join statements_raw r on r.id = f.statement_id
    where f.object_id = ${activityId} and not f.voided
      and jsonb_typeof(r.payload->'object'->'definition') = 'object'
    order by r.seq desc
    limit ${MAX_DEFINITIONS_MERGED}`,
  );
  const definition = mergeDefinitions(rows.map((row) => row.definition).reverse());
  return { objectType: "Activity", id: activityId, ...(definition ? { definition } : {}) };
}
