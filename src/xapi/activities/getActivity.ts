/**
 * The Activities resource (xAPI Communication §2.4): an Activity with the canonical definition
 * this LRS builds from every statement the Activity appeared in: as the object, as a context
 * activity (parent, grouping, category, other), and the same inside a SubStatement object
 * (Data §2.4.4.1: an Activity may carry its definition wherever it appears).
 *
 * Built when asked, so storing statements pays nothing for it. The statements are found through
 * `statement_index`: its `related_activity` key covers exactly those places, and it is written in
 * the transaction that stores the statement, so a definition is readable as soon as its POST has
 * answered (the flat rows come later, from the worker). Voided statements take no part.
 *
 * The definitions are merged oldest first (in the order the LRS stored them): a later
 * statement's `type`, `moreInfo`, interaction properties and extensions replace earlier ones,
 * while language maps (`name`, `description`) are unioned, a later text winning per language.
 * The most recent `MAX_DEFINITIONS_MERGED` statements take part.
 */
import { sql } from "drizzle-orm";
import { type Db, queryRows } from "../../db/client.ts";
import { notVoided } from "../queryStatements.ts";
import { indexKey } from "../statementIndexKeys.ts";
import type {
  Activity,
  ActivityDefinition,
  ContextActivities,
  StatementObject,
} from "../validateStatement.ts";

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

/** The parts of a stored statement an Activity can appear in. */
export interface ActivityPlaces {
  object?: StatementObject | undefined;
  contextActivities?: ContextActivities | undefined;
}

/**
 * The definitions `activityId` is given in one statement, in the order object, context
 * activities (parent, grouping, category, other), then the same inside a SubStatement. Pure.
 */
export function definitionsIn(places: ActivityPlaces, activityId: string): ActivityDefinition[] {
  const found: ActivityDefinition[] = [];
  const visit = (activity: Activity | undefined) => {
    if (activity?.id === activityId && isMap(activity.definition)) found.push(activity.definition);
  };
  const visitObject = (object: StatementObject | undefined) => {
    if (object && (object.objectType === undefined || object.objectType === "Activity")) visit(object);
  };
  const visitContext = (activities: ContextActivities | undefined) => {
    if (!activities) return;
    for (const list of [activities.parent, activities.grouping, activities.category, activities.other]) {
      if (list === undefined) continue;
      for (const activity of Array.isArray(list) ? list : [list]) visit(activity);
    }
  };
  visitObject(places.object);
  visitContext(places.contextActivities);
  if (places.object?.objectType === "SubStatement") {
    visitObject(places.object.object as StatementObject);
    visitContext(places.object.context?.contextActivities);
  }
  return found;
}

export async function getActivity(db: Db, activityId: string): Promise<ActivityObject> {
  // Newest first along the index (key, stored, statement_id); seq orders one request's statements.
  const rows = await queryRows<{
    object: StatementObject | null;
    context_activities: ContextActivities | null;
  }>(
    db,
    sql`
    select r.payload->'object' as object, r.payload->'context'->'contextActivities' as context_activities
    from statement_index i join statements_raw r on r.id = i.statement_id
    where i.key = ${indexKey("related_activity", activityId)}
      and ${notVoided(sql`r`)}
    order by i.stored desc, r.seq desc
    limit ${MAX_DEFINITIONS_MERGED}`,
  );
  const definitions = rows
    .reverse()
    .flatMap((row) =>
      definitionsIn(
        { object: row.object ?? undefined, contextActivities: row.context_activities ?? undefined },
        activityId,
      ),
    );
  const definition = mergeDefinitions(definitions);
  return { objectType: "Activity", id: activityId, ...(definition ? { definition } : {}) };
}
