import { type Static, Type } from "typebox";
import { AVATAR_PATTERN } from "../../db/schema.ts";
import { CohortId } from "../../http/schemas.ts";

export const SignupRequest = Type.Object(
  {
    name: Type.String({
      minLength: 1,
      maxLength: 200,
      description: "the learner's name as shown to instructors",
    }),
    email: Type.String({ format: "email", maxLength: 254, description: "unique, case-insensitively" }),
    avatar: Type.String({
      pattern: AVATAR_PATTERN,
      description: "3–32 lower-case letters, digits, '_' or '-'",
    }),
    cohortId: CohortId,
    timezone: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 64,
        description: "IANA time zone, e.g. Europe/Berlin; default UTC",
      }),
    ),
  },
  { additionalProperties: false },
);
export type SignupRequest = Static<typeof SignupRequest>;

export const UserRead = Type.Object({
  id: Type.String({ format: "uuid" }),
  name: Type.String(),
  email: Type.String(),
  avatar: Type.String(),
  cohortId: Type.String(),
  timezone: Type.String(),
  createdAt: Type.String({ format: "date-time" }),
});
export type UserRead = Static<typeof UserRead>;
