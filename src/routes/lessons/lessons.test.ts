import { describe, expect, it } from "vitest";
import { ADMIN_PASSWORD, adminHeaders, useTestApp } from "../../../test/helpers/app.ts";

const harness = useTestApp();

const day1 = {
  cohortId: "2026-spring",
  activityId: "https://lessons.example.com/course/day-1",
  title: "Day 1: Variables",
  url: "https://lessons.example.com/course/day-1/index.html",
  lessonDate: "2026-03-02",
};

function postLesson(body: unknown, headers: Record<string, string> = adminHeaders) {
  return harness.app.inject({ method: "POST", url: "/api/lessons", headers, payload: body as object });
}

describe("admin authentication", () => {
  const basic = (user: string, password: string) => ({
    authorization: `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`,
  });

  it.each([
    ["no credentials", {}],
    ["a wrong password", basic("admin", "wrong-password-123")],
    ["a wrong user", basic("root", ADMIN_PASSWORD)],
    ["a malformed header", { authorization: "Basic %%%" }],
    ["a wrong bearer token", { authorization: "Bearer nope" }],
  ])("answers 401 with a Basic challenge for %s, and stores nothing", async (_, headers) => {
    const response = await postLesson(day1, headers);
    expect(response.statusCode).toBe(401);
    expect(response.headers["www-authenticate"]).toMatch(/^Basic realm="cohort-lrs admin"/);
    expect(response.json()).toMatchObject({ error: "unauthorized" });
    const list = await harness.app.inject({ method: "GET", url: "/api/lessons", headers: adminHeaders });
    expect(list.json().total).toBe(0);
  });

  it("accepts the admin password as a Bearer token", async () => {
    const response = await postLesson(day1, { authorization: `Bearer ${ADMIN_PASSWORD}` });
    expect(response.statusCode).toBe(201);
  });

  it("rejects an unauthenticated request before reading its body", async () => {
    const response = await harness.app.inject({
      method: "POST",
      url: "/api/lessons",
      headers: { "content-type": "application/json" },
      payload: "{not json",
    });
    expect(response.statusCode).toBe(401);
  });
});

describe("POST /api/lessons", () => {
  it("creates a lesson and answers 201 with it", async () => {
    const response = await postLesson(day1);
    expect(response.statusCode).toBe(201);
    expect(response.json()).toEqual({ ...day1, id: expect.any(String), createdAt: expect.any(String) });
  });

  it("leaves url null when it is not given", async () => {
    const { url: _url, ...withoutUrl } = day1;
    const response = await postLesson(withoutUrl);
    expect(response.statusCode).toBe(201);
    expect(response.json().url).toBeNull();
  });

  it.each([
    ["lessonDate", { ...day1, lessonDate: "2026-02-30" }],
    ["lessonDate", { ...day1, lessonDate: "tomorrow" }],
    ["activityId", { ...day1, activityId: "day 1" }],
    ["url", { ...day1, url: "javascript:alert(1)" }],
    ["title", { ...day1, title: "" }],
    ["cohortId", { ...day1, cohortId: undefined }],
    ["extra", { ...day1, extra: true }],
  ])("rejects a bad %s with 400 naming it", async (field, body) => {
    const response = await postLesson(body);
    expect(response.statusCode).toBe(400);
    expect(response.json().error).toBe("validation_error");
    expect(response.json().details.map((detail: { field: string }) => detail.field)).toContain(field);
  });

  it("answers 409 lesson_exists for a second lesson on the same activity in a cohort", async () => {
    expect((await postLesson(day1)).statusCode).toBe(201);
    const again = await postLesson({ ...day1, title: "Other title" });
    expect(again.statusCode).toBe(409);
    expect(again.json()).toMatchObject({ error: "lesson_exists" });
    // The same activity in another cohort is fine.
    expect((await postLesson({ ...day1, cohortId: "2026-autumn" })).statusCode).toBe(201);
  });
});

describe("GET /api/lessons", () => {
  it("lists lessons by due date, filtered by cohort and day, paginated", async () => {
    await postLesson({
      ...day1,
      activityId: "https://x.example/2",
      title: "Day 2",
      lessonDate: "2026-03-03",
    });
    await postLesson(day1);
    await postLesson({ ...day1, cohortId: "2026-autumn" });

    const all = await harness.app.inject({ method: "GET", url: "/api/lessons", headers: adminHeaders });
    expect(all.statusCode).toBe(200);
    expect(all.json().total).toBe(3);

    const spring = await harness.app.inject({
      method: "GET",
      url: "/api/lessons?cohortId=2026-spring",
      headers: adminHeaders,
    });
    expect(spring.json().items.map((lesson: { title: string }) => lesson.title)).toEqual([
      "Day 1: Variables",
      "Day 2",
    ]);

    const page = await harness.app.inject({
      method: "GET",
      url: "/api/lessons?cohortId=2026-spring&limit=1&offset=1",
      headers: adminHeaders,
    });
    expect(page.json()).toMatchObject({ total: 2, limit: 1, offset: 1, items: [{ title: "Day 2" }] });

    const oneDay = await harness.app.inject({
      method: "GET",
      url: "/api/lessons?lessonDate=2026-03-03",
      headers: adminHeaders,
    });
    expect(oneDay.json().items).toHaveLength(1);
  });

  it.each(["limit=0", "limit=5000", "offset=-1", "lessonDate=soon", "cohortId=a%20b", "color=red"])(
    "rejects the query %s with 400",
    async (query) => {
      const response = await harness.app.inject({
        method: "GET",
        url: `/api/lessons?${query}`,
        headers: adminHeaders,
      });
      expect(response.statusCode).toBe(400);
      expect(response.json().error).toBe("validation_error");
    },
  );
});

describe("GET /api/users", () => {
  it("requires admin", async () => {
    expect((await harness.app.inject({ method: "GET", url: "/api/users" })).statusCode).toBe(401);
  });

  it("lists the learners of a cohort with their reminder setting", async () => {
    const signup = (avatar: string, cohortId: string) =>
      harness.app.inject({
        method: "POST",
        url: "/api/signup",
        payload: { name: avatar, email: `${avatar}@example.com`, avatar, cohortId },
      });
    await signup("ada", "2026-spring");
    await signup("grace", "2026-spring");
    await signup("alan", "2026-autumn");
    const response = await harness.app.inject({
      method: "GET",
      url: "/api/users?cohortId=2026-spring",
      headers: adminHeaders,
    });
    expect(response.statusCode).toBe(200);
    const body = response.json();
    expect(body.total).toBe(2);
    expect(body.items.map((user: { avatar: string }) => user.avatar)).toEqual(["ada", "grace"]);
    expect(body.items[0]).toMatchObject({
      email: "ada@example.com",
      remindersEnabled: true,
      timezone: "UTC",
    });
  });
});
