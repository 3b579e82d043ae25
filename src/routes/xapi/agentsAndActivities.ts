/**
 * The Agents (`GET /xapi/agents?agent=`, xAPI Communication §2.5) and Activities
 * (`GET /xapi/activities?activityId=`, §2.4) resources. Both are read-only and built when asked
 * (see `xapi/agents/getPerson.ts` and `xapi/activities/getActivity.ts`).
 */
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "typebox";
import { errorResponses } from "../../http/schemas.ts";
import { getActivity } from "../../xapi/activities/getActivity.ts";
import { getPerson } from "../../xapi/agents/getPerson.ts";
import { parseActivityId, parseAgent, parseOnlyParameter } from "../../xapi/documents/address.ts";
import { XapiHeaders } from "./openapi.ts";

export const agentsAndActivitiesRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { db } = app.deps.database;
  const headers = XapiHeaders;

  app.get(
    "/xapi/agents",
    {
      config: { auth: "xapi" },
      schema: {
        tags: ["xAPI"],
        summary: "The Person object of an Agent",
        description:
          "Every name and identifier this LRS knows for the person: the Agent's own, and for a registered learner " +
          "their email (mbox), their account under PUBLIC_BASE_URL and the names statements gave them.",
        querystring: Type.Object({ agent: Type.Optional(Type.String({ description: "an Agent as JSON" })) }),
        headers,
        response: { 200: Type.Unknown(), ...errorResponses },
      },
    },
    async (request) => {
      const agent = parseAgent(parseOnlyParameter(request.query, "agent"), request.xapiVersion!);
      return getPerson(db, agent, app.deps.config.publicBaseUrl);
    },
  );

  app.get(
    "/xapi/activities",
    {
      config: { auth: "xapi" },
      schema: {
        tags: ["xAPI"],
        summary: "An Activity with its canonical definition",
        description:
          "The definition merged from the statements this Activity appeared in (as object or context activity, " +
          "also inside a SubStatement; voided ones left out): language maps unioned, later values winning; " +
          "`{objectType, id}` alone when none had a definition.",
        querystring: Type.Object({
          activityId: Type.Optional(Type.String({ description: "the Activity's IRI" })),
        }),
        headers,
        response: { 200: Type.Unknown(), ...errorResponses },
      },
    },
    async (request) => getActivity(db, parseActivityId(parseOnlyParameter(request.query, "activityId"))),
  );
};
