/**
 * What a start prints for the operator (on stdout, apart from the JSON logs): where the service
 * listens and where its secrets are. A generated xAPI secret is printed here once, the one time
 * it is created, and never logged.
 */
import type { Runtime } from "./runtime.ts";

export function startBanner(role: string, url: string, runtime: Runtime): string {
  const { config, database, adminPassword, bootstrapCredential: xapi } = runtime;
  const lines = [
    `cohort-lrs: role ${role} listening on ${url}`,
    `  database        ${database.kind === "pglite" ? `embedded PGlite in ${database.location}` : database.location}`,
    `  ETL mode        ${config.etlMode}${config.redisUrl ? "" : " (no Redis configured)"}`,
    `  API docs        ${url}/docs`,
    config.publicBaseUrlSource === "env"
      ? `  public URL      ${config.publicBaseUrl} (PUBLIC_BASE_URL)`
      : `  public URL      ${config.publicBaseUrl} (from HOST and PORT; set PUBLIC_BASE_URL to the address learners use)`,
    adminPassword.source === "env"
      ? `  admin           user "admin", password from ADMIN_PASSWORD`
      : `  admin           user "admin", password in ${adminPassword.file}`,
  ];
  if (xapi.source === "env") {
    lines.push(`  xAPI credential key ${xapi.key} (from PUBLIC_PEM/SECRET_PEM)`);
  } else if (xapi.secret) {
    lines.push(
      `  xAPI credential generated now; shown this once:`,
      `                  key ${xapi.key}`,
      `                  secret ${xapi.secret}`,
      `                  (also saved in ${xapi.file}, readable by this user only)`,
    );
  } else {
    lines.push(
      `  xAPI credential key ${xapi.key}${xapi.file ? `, secret in ${xapi.file}` : " (secret shown at first start)"}`,
    );
  }
  return `${lines.join("\n")}\n`;
}
