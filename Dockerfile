# syntax=docker/dockerfile:1
#
# The cohort-lrs image: one image for every role, chosen by the command
# (`docker run cohort-lrs api`, `... worker`, `... scheduler`, `... migrate`; DESIGN §2).
# No secret is baked in: configuration comes from the environment at run time (.env.example).

# --- build: compile src/ to dist/ (needs the dev dependencies: TypeScript and the types) ---
FROM node:24-slim AS build
WORKDIR /app
# The lockfile alone decides the install, so this layer is reused until dependencies change.
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# --- runtime: production dependencies and the compiled code only ---
FROM node:24-slim AS runtime
WORKDIR /app
ENV NODE_ENV=production HOST=0.0.0.0 PORT=8080 DATA_DIR=/data
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
# No src/ here: bin/cohort-lrs.js runs the TypeScript sources when they exist and dist/ otherwise.
COPY --from=build /app/dist ./dist
# SQL migrations, read at run time from dist/db/migrate.js as ../../drizzle/.
COPY drizzle ./drizzle
# The plan modules' contracts, read by /api/debug/progress from the package root (/app).
COPY orchestrator_contracts ./orchestrator_contracts
COPY bin ./bin
# Embedded data, generated secrets and the mail outbox. Created here so a fresh named volume
# mounted on /data starts out owned by `node`.
RUN mkdir /data && chown node:node /data
USER node
EXPOSE 8080
# Liveness only (/health/ready is readiness: it checks the database, and Redis where the role
# needs it, and an outage there should not get the container restarted). No curl in the slim image: Node's own fetch does it. Roles without an
# HTTP server (migrate, worker, scheduler) switch it off in docker-compose.yml.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 8080) + '/health').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node", "bin/cohort-lrs.js"]
CMD ["api"]
