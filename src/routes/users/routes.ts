import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "typebox";
import { listUsers } from "../../data/listUsers.ts";
import { CohortId, errorResponses, Pagination } from "../../http/schemas.ts";
import { presentUserForAdmin } from "../../presenters/user.ts";
import { UserRead } from "../signup/schema.ts";

const AdminUserRead = Type.Object({ ...UserRead.properties, remindersEnabled: Type.Boolean() });

/** Learners, for operators (admin). */
export const userRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    "/api/users",
    {
      config: { auth: "admin" },
      schema: {
        tags: ["learners"],
        summary: "List learners, in signup order",
        querystring: Type.Object(
          { cohortId: Type.Optional(CohortId), ...Pagination },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            items: Type.Array(AdminUserRead),
            total: Type.Integer(),
            limit: Type.Integer(),
            offset: Type.Integer(),
          }),
          ...errorResponses,
        },
      },
    },
    async (request) => {
      const page = await listUsers(app.deps.database.db, request.query);
      return { ...page, items: page.items.map(presentUserForAdmin) };
    },
  );
};
