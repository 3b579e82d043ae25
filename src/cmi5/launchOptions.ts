/**
 * The `cohort-lrs cmi5-launch` options, as the admin API's request body: the same schema checks
 * both, and a problem is reported under the option's name (`--au-url`), not the body field's.
 */
import type { ErrorObject } from "ajv";
import { describeValidationErrors, validatorCompiler } from "../http/validation.ts";
import { CreateCmi5LaunchRequest } from "../routes/cmi5/schema.ts";

/** Option name → request field. */
export const CMI5_LAUNCH_OPTIONS = {
  learner: "learner",
  "activity-id": "activityId",
  "au-url": "auUrl",
  "publisher-id": "publisherId",
  registration: "registration",
  "launch-mode": "launchMode",
  "move-on": "moveOn",
  "mastery-score": "masteryScore",
  "return-url": "returnUrl",
  "launch-parameters": "launchParameters",
} as const;
export type Cmi5LaunchOption = keyof typeof CMI5_LAUNCH_OPTIONS;

const validate = validatorCompiler({
  schema: CreateCmi5LaunchRequest,
  httpPart: "body",
  method: "POST",
  url: "/api/cmi5/launches",
}) as ((body: unknown) => boolean) & { errors?: ErrorObject[] | null };

const optionOf = (field: string) =>
  Object.entries(CMI5_LAUNCH_OPTIONS).find(([, name]) => name === field)?.[0] ?? field;

/** The request body of `options`, or the problems, each naming its option (`--au-url: must be …`). */
export function cmi5LaunchRequest(
  options: Partial<Record<Cmi5LaunchOption, string>>,
): { body: CreateCmi5LaunchRequest } | { problems: string[] } {
  const body: Record<string, unknown> = {};
  for (const [option, field] of Object.entries(CMI5_LAUNCH_OPTIONS)) {
    const value = options[option as Cmi5LaunchOption];
    if (value === undefined) continue;
    body[field] = field === "masteryScore" && value.trim() !== "" ? Number(value) : value;
  }
  if (validate(body)) return { body: body as CreateCmi5LaunchRequest };
  const { details } = describeValidationErrors(validate.errors ?? [], undefined);
  return { problems: details.map((detail) => `--${optionOf(detail.field)}: ${detail.message}`) };
}
