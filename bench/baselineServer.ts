// Baseline for the ingestion benchmark: a bare node:http server that reads and parses the same
// JSON body and answers with an array of ids, and does nothing else. What the service spends
// beyond this is the cost of being an LRS (validation, the commit, the stream).
import { randomUUID } from "node:crypto";
import http from "node:http";

const server = http.createServer((request, response) => {
  const chunks: Buffer[] = [];
  request.on("data", (chunk: Buffer) => chunks.push(chunk));
  request.on("end", () => {
    const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as unknown;
    const ids = (Array.isArray(body) ? body : [body]).map(() => randomUUID());
    response.writeHead(200, { "content-type": "application/json" });
    response.end(JSON.stringify(ids));
  });
});
server.listen(0, "127.0.0.1", () => {
  const address = server.address() as { port: number };
  process.stdout.write(`listening on http://127.0.0.1:${address.port}\n`);
});
process.on("SIGTERM", () => server.close(() => process.exit(0)));
