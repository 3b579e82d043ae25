/**
 * The `format` parameter of statement GETs (xAPI Communication §2.1.3). Pure.
 * - `exact`: the statement as stored.
 * - `ids`: Agents, identified Groups, Activities and Verbs reduced to what identifies them
 *   (objectType and IFI for agents and groups, an anonymous Group keeping its members in `ids`
 *   form; the id alone for activities and verbs).
 * - `canonical`: every language map of Activities and Verbs (and attachments) reduced to one
 *   language, the best match for the request's `Accept-Language`.
 */
import type { StatementFormat } from "./parseStatementQuery.ts";
import type {
  Activity,
  Actor,
  Attachment,
  Context,
  ContextActivities,
  LanguageMap,
  Statement,
  StatementObject,
  StoredStatement,
  Verb,
} from "./validateStatement.ts";

type Body = Pick<Statement, "actor" | "verb" | "object" | "context" | "authority" | "attachments">;

interface Rewrite {
  actor(actor: Actor): Actor;
  activity(activity: Activity): Activity;
  verb(verb: Verb): Verb;
  attachment(attachment: Attachment): Attachment;
}

function mapList<T>(value: T | T[] | undefined, map: (item: T) => T): T | T[] | undefined {
  if (value === undefined) return undefined;
  return Array.isArray(value) ? value.map(map) : map(value);
}

function rewriteObject(object: StatementObject, rewrite: Rewrite): StatementObject {
  switch (object.objectType) {
    case "Agent":
    case "Group":
      return rewrite.actor(object) as StatementObject;
    case "StatementRef":
      return object;
    case "SubStatement":
      return { ...object, ...rewriteBody(object, rewrite) } as StatementObject;
    default:
      return rewrite.activity(object);
  }
}

function rewriteContext(context: Context, rewrite: Rewrite): Context {
  const out: Context = { ...context };
  if (context.instructor) out.instructor = rewrite.actor(context.instructor);
  if (context.team) out.team = rewrite.actor(context.team) as Context["team"];
  if (context.contextActivities) {
    const activities: ContextActivities = {};
    for (const [kind, list] of Object.entries(context.contextActivities)) {
      activities[kind as keyof ContextActivities] = mapList(list as Activity | Activity[], rewrite.activity);
    }
    out.contextActivities = activities;
  }
  if (context.contextAgents) {
    out.contextAgents = context.contextAgents.map((c) => ({
      ...c,
      agent: rewrite.actor(c.agent) as typeof c.agent,
    }));
  }
  if (context.contextGroups) {
    out.contextGroups = context.contextGroups.map((c) => ({
      ...c,
      group: rewrite.actor(c.group) as typeof c.group,
    }));
  }
  return out;
}

function rewriteBody(body: Body, rewrite: Rewrite): Partial<Body> {
  const out: Partial<Body> = {
    actor: rewrite.actor(body.actor),
    verb: rewrite.verb(body.verb),
    object: rewriteObject(body.object, rewrite),
  };
  if (body.context) out.context = rewriteContext(body.context, rewrite);
  if (body.authority) out.authority = rewrite.actor(body.authority);
  if (body.attachments) out.attachments = body.attachments.map(rewrite.attachment);
  return out;
}

const IFI_KEYS = ["mbox", "mbox_sha1sum", "openid", "account"] as const;

function idsActor(actor: Actor): Actor {
  const out: Record<string, unknown> = { objectType: actor.objectType ?? "Agent" };
  const ifi = IFI_KEYS.find((key) => actor[key] !== undefined);
  if (ifi) out[ifi] = actor[ifi];
  else if (actor.objectType === "Group" && actor.member) out.member = actor.member.map(idsActor);
  return out as unknown as Actor;
}

const IDS: Rewrite = {
  actor: idsActor,
  // An Activity is identified by its id alone (objectType is optional and says nothing more).
  activity: (activity) => ({ id: activity.id }),
  verb: (verb) => ({ id: verb.id }),
  attachment: (attachment) => attachment,
};

/** Language tags of an `Accept-Language` header, best first (RFC 9110 §12.5.4). */
export function acceptedLanguages(header: string | undefined): string[] {
  if (!header) return [];
  return header
    .split(",")
    .map((part, order) => {
      const [tag = "", ...params] = part.trim().split(";");
      const q = params.map((p) => /^\s*q=([\d.]+)\s*$/.exec(p)?.[1]).find(Boolean);
      return { tag: tag.trim().toLowerCase(), q: q === undefined ? 1 : Number(q), order };
    })
    .filter((entry) => entry.tag && entry.q > 0)
    .sort((a, b) => b.q - a.q || a.order - b.order)
    .map((entry) => entry.tag);
}

/** The one entry of `map` that best matches `languages` (else its first entry). */
function pickLanguage(map: LanguageMap, languages: string[]): LanguageMap {
  const entries = Object.entries(map);
  if (entries.length <= 1) return map;
  for (const wanted of languages) {
    if (wanted === "*") break;
    const exact = entries.find(([tag]) => tag.toLowerCase() === wanted);
    const prefix = entries.find(([tag]) => tag.toLowerCase().split("-")[0] === wanted.split("-")[0]);
    const chosen = exact ?? prefix;
    if (chosen) return { [chosen[0]]: chosen[1] };
  }
  const [first] = entries;
  return { [first![0]]: first![1] };
}

function canonical(languages: string[]): Rewrite {
  const pick = <T extends object>(value: T, keys: readonly (keyof T)[]): T => {
    const out = { ...value };
    for (const key of keys) {
      const map = value[key] as LanguageMap | undefined;
      if (map) out[key] = pickLanguage(map, languages) as T[keyof T];
    }
    return out;
  };
  return {
    actor: (actor) => actor,
    activity: (activity) => {
      if (!activity.definition) return activity;
      const definition = pick(activity.definition, ["name", "description"]);
      for (const list of ["choices", "scale", "source", "target", "steps"] as const) {
        const components = activity.definition[list];
        if (components) definition[list] = components.map((c) => pick(c, ["description"]));
      }
      return { ...activity, definition };
    },
    verb: (verb) => pick(verb, ["display"]),
    attachment: (attachment) => pick(attachment, ["display", "description"]),
  };
}

/** `statement` in `format`; `acceptLanguage` matters to `canonical` only. */
export function formatStatement(
  statement: StoredStatement,
  format: StatementFormat,
  acceptLanguage?: string,
): StoredStatement {
  if (format === "exact") return statement;
  const rewrite = format === "ids" ? IDS : canonical(acceptedLanguages(acceptLanguage));
  return { ...statement, ...rewriteBody(statement, rewrite) } as StoredStatement;
}
