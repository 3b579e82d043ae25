/**
 * The rules of a statement that a JSON Schema cannot say, as one Ajv keyword: a schema names its
 * rule (`xapiRule: "agent"`) and the code below checks it, after the schema's own keywords. Each
 * rule reports problems with their final wording and place; `statementSchema.ts` declares
 * everything else.
 *
 * - agent / group: how many inverse functional identifiers (exactly one / at most one, naming
 *   those found); an anonymous Group lists at least one member.
 * - authority: a Group authority is an anonymous pair of Agents (OAuth application and user).
 * - score: `min < max`, `min ≤ raw ≤ max`.
 * - interactionProperty (checked before the value itself): `correctResponsesPattern` needs an
 *   interactionType; each interaction component list only with the interactionType that uses it.
 * - componentIds: no two interaction components of one list share an id.
 * - extensions: values nest at most `MAX_EXTENSION_DEPTH` objects/arrays deep.
 * - activityContent: `context.revision` and `context.platform` only when the statement's object
 *   is an Activity.
 * - statement: a voiding statement's object is a StatementRef.
 */
import type { Ajv, ErrorObject } from "ajv";
import { VOIDED_VERB } from "../names.ts";

/** Extension values may nest objects/arrays this deep; deeper is a problem, not a stack overflow. */
export const MAX_EXTENSION_DEPTH = 32;

export const INTERACTION_TYPES = [
  "true-false",
  "choice",
  "fill-in",
  "long-fill-in",
  "matching",
  "performance",
  "sequencing",
  "likert",
  "numeric",
  "other",
] as const;

export const COMPONENT_LISTS = ["choices", "scale", "source", "target", "steps"] as const;

/** Which interaction component lists each interactionType uses (§2.4.4.1, "Interaction Components"). */
const COMPONENT_LISTS_BY_TYPE: Record<string, readonly string[]> = {
  choice: ["choices"],
  sequencing: ["choices"],
  likert: ["scale"],
  matching: ["source", "target"],
  performance: ["steps"],
};

export const IFI_KEYS = ["mbox", "mbox_sha1sum", "openid", "account"] as const;

type JsonObject = Record<string, unknown>;

/** A problem as a rule reports it: a JSON pointer below the checked value, and the message. */
interface Found {
  at: string;
  message: string;
  /** For `duplicates the id of`: the index of the first element with that id. */
  refersTo?: number;
}

/** Where the checked value is: its JSON pointer, the object holding it (under which key), the whole statement. */
interface Place {
  instancePath: string;
  parentData?: unknown;
  parentDataProperty?: string | number;
  rootData: unknown;
}

type Rule = (value: unknown, place: Place) => Found[];

function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** An own property (never one inherited from `Object.prototype`, such as `constructor`). */
function own(object: JsonObject, key: string): unknown {
  return Object.hasOwn(object, key) ? object[key] : undefined;
}

function pointer(key: string | number): string {
  return `/${String(key).replace(/~/g, "~0").replace(/\//g, "~1")}`;
}

function identifiersOf(value: JsonObject): string[] {
  return IFI_KEYS.filter((key) => own(value, key) !== undefined);
}

function describeFound(present: string[]): string {
  return present.length === 0 ? "found none" : `found ${present.join(" and ")}`;
}

const RULES = {
  agent: (value) => {
    if (!isObject(value)) return [];
    const present = identifiersOf(value);
    if (present.length === 1) return [];
    return [
      {
        at: "",
        message: `must have exactly one of mbox, mbox_sha1sum, openid or account; ${describeFound(present)}`,
      },
    ];
  },

  group: (value) => {
    if (!isObject(value)) return [];
    const found: Found[] = [];
    const present = identifiersOf(value);
    if (present.length > 1) {
      found.push({
        at: "",
        message: `must have at most one of mbox, mbox_sha1sum, openid or account; ${describeFound(present)}`,
      });
    }
    if (present.length > 0) return found;
    const member = own(value, "member");
    if (member === undefined) {
      found.push({
        at: "/member",
        message: "is required for an anonymous Group (one without mbox, mbox_sha1sum, openid or account)",
      });
    } else if (Array.isArray(member) && member.length === 0) {
      found.push({ at: "/member", message: "must list at least one Agent" });
    }
    return found;
  },

  // §2.4.9: an Agent, or (3-legged OAuth) a Group of exactly two Agents: the application and the user.
  // The pair is anonymous: an identified Group is not an authority (Data §2.4.9.s3.b3).
  authority: (value) => {
    if (!isObject(value) || own(value, "objectType") !== "Group") return [];
    const found: Found[] = [];
    const member = own(value, "member");
    if (!Array.isArray(member) || member.length !== 2) {
      found.push({
        at: "/member",
        message: "must list exactly two Agents (an OAuth application and a user)",
      });
    }
    const [first] = identifiersOf(value);
    if (first) {
      found.push({
        at: pointer(first),
        message: "must not be set: a Group authority is an anonymous OAuth pair of Agents",
      });
    }
    return found;
  },

  score: (value) => {
    if (!isObject(value)) return [];
    const number = (key: string) => {
      const given = own(value, key);
      return typeof given === "number" && Number.isFinite(given) ? given : undefined;
    };
    const [raw, min, max] = [number("raw"), number("min"), number("max")];
    const found: Found[] = [];
    if (min !== undefined && max !== undefined && !(min < max)) {
      found.push({ at: "/max", message: `must be greater than min (${min})` });
    }
    if (raw !== undefined && min !== undefined && raw < min) {
      found.push({ at: "/raw", message: `must be at least min (${min})` });
    }
    if (raw !== undefined && max !== undefined && raw > max) {
      found.push({ at: "/raw", message: `must be at most max (${max})` });
    }
    return found;
  },

  // correctResponsesPattern needs an interactionType; each interaction component list is allowed
  // only with the interactionType that uses it (§2.4.4.1.s13.b3 allows this check).
  interactionProperty: (_value, { parentData, parentDataProperty }) => {
    if (!isObject(parentData)) return [];
    const interactionType = own(parentData, "interactionType");
    if (parentDataProperty === "correctResponsesPattern") {
      return interactionType === undefined
        ? [{ at: "", message: "is only allowed with an interactionType" }]
        : [];
    }
    const knownType =
      typeof interactionType === "string" &&
      (INTERACTION_TYPES as readonly string[]).includes(interactionType)
        ? interactionType
        : undefined;
    const usedBy = Object.keys(COMPONENT_LISTS_BY_TYPE).filter((type) =>
      COMPONENT_LISTS_BY_TYPE[type]!.includes(String(parentDataProperty)),
    );
    if (interactionType === undefined || (knownType && !usedBy.includes(knownType))) {
      return [{ at: "", message: `is only allowed when interactionType is ${usedBy.join(" or ")}` }];
    }
    return [];
  },

  componentIds: (value) => {
    if (!Array.isArray(value)) return [];
    const found: Found[] = [];
    const firstIndexOfId = new Map<string, number>();
    for (const [index, component] of value.entries()) {
      const id = isObject(component) ? own(component, "id") : undefined;
      if (typeof id !== "string") continue;
      const first = firstIndexOfId.get(id);
      if (first === undefined) firstIndexOfId.set(id, index);
      else found.push({ at: `${pointer(index)}/id`, message: "duplicates the id of", refersTo: first });
    }
    return found;
  },

  extensions: (value) => {
    if (!isObject(value)) return [];
    const found: Found[] = [];
    for (const [key, extension] of Object.entries(value)) {
      const tooDeep = findTooDeep(extension, 1, []);
      if (tooDeep) {
        found.push({
          at: [key, ...tooDeep].map(pointer).join(""),
          message: `nests deeper than ${MAX_EXTENSION_DEPTH} levels of objects and arrays`,
        });
      }
    }
    return found;
  },

  // §2.4.6: `context.revision` and `context.platform` describe an Activity's content.
  activityContent: (_value, { instancePath, rootData }) => {
    const statement = valueAt(rootData, instancePath.split("/").slice(1, -2));
    const object = isObject(statement) ? own(statement, "object") : undefined;
    const objectType = isObject(object) ? (own(object, "objectType") ?? "Activity") : undefined;
    if (objectType === "Activity") return [];
    return [{ at: "", message: "is only allowed when the statement's object is an Activity" }];
  },

  statement: (value) => {
    if (!isObject(value)) return [];
    const found: Found[] = [];
    // §2.3.2: a voiding statement's object is the StatementRef of the statement it voids.
    const verb = own(value, "verb");
    const object = own(value, "object");
    if (isObject(verb) && own(verb, "id") === VOIDED_VERB && isObject(object)) {
      if (own(object, "objectType") !== "StatementRef") {
        found.push({
          at: "/object/objectType",
          message: `must be StatementRef when the verb is ${VOIDED_VERB}`,
        });
      }
    }
    return found;
  },
} satisfies Record<string, Rule>;

export type RuleName = keyof typeof RULES;

/** The value at the (unescaped JSON pointer) `segments` below `root`. */
function valueAt(root: unknown, segments: string[]): unknown {
  let at = root;
  for (const raw of segments) {
    const key = raw.replace(/~1/g, "/").replace(/~0/g, "~");
    if (Array.isArray(at)) at = at[Number(key)];
    else if (isObject(at)) at = own(at, key);
    else return undefined;
  }
  return at;
}

/**
 * The path (below the extension) of the first object/array nested deeper than the limit, or
 * undefined. Recursion is bounded by the limit, so hostile input cannot overflow the stack.
 */
function findTooDeep(
  value: unknown,
  depth: number,
  segments: (string | number)[],
): (string | number)[] | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  if (depth > MAX_EXTENSION_DEPTH) return [...segments];
  const entries: [string | number, unknown][] = Array.isArray(value)
    ? [...value.entries()]
    : Object.entries(value);
  for (const [key, nested] of entries) {
    if (typeof nested !== "object" || nested === null) continue;
    segments.push(key);
    const found = findTooDeep(nested, depth + 1, segments);
    segments.pop();
    if (found) return found;
  }
  return undefined;
}

interface RuleCheck {
  (rule: RuleName, value: unknown, parentSchema: object, place?: Place): boolean;
  errors?: Partial<ErrorObject>[];
}

const checkRule: RuleCheck = (rule, value, parentSchema, place = { instancePath: "", rootData: value }) => {
  const found = (RULES[rule] as Rule)(value, place);
  if (found.length === 0) return true;
  const base = place.instancePath;
  checkRule.errors = found.map(({ at, message, refersTo }) => ({
    keyword: "xapiRule",
    instancePath: base + at,
    message,
    params: refersTo === undefined ? { rule } : { rule, refersTo },
    parentSchema,
  }));
  return false;
};

/**
 * Adds the keywords: `{ xapiRule: "agent" }` runs that rule after the schema's own keywords (on
 * an object, array or string), `{ xapiRuleBefore: "interactionProperty" }` before them (on any value).
 */
export function addStatementRules(ajv: Ajv): void {
  ajv.addKeyword({
    keyword: "xapiRuleBefore",
    schemaType: "string",
    errors: true,
    validate: checkRule as never,
  });
  ajv.addKeyword({
    keyword: "xapiRule",
    type: ["object", "array", "string"],
    schemaType: "string",
    errors: true,
    validate: checkRule as never,
  });
}
