/**
 * xAPI Data §2.6 Signed Statements, the checks alone: algorithms, payload, and the x5c
 * certificate chain (certificates made with the openssl command for the test).
 */
import { execFileSync } from "node:child_process";
import { createPrivateKey, generateKeyPairSync, type KeyObject, X509Certificate } from "node:crypto";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { jws } from "../../test/helpers/xapiAttachments.ts";
import type { Statement } from "./validateStatement.ts";
import { verifySignature } from "./verifySignatures.ts";

const statement = {
  id: "6690e6c9-3ef0-4ed3-8b37-7f3964730bee",
  actor: { mbox: "mailto:ada@example.com" },
  verb: { id: "http://adlnet.gov/expapi/verbs/attended" },
  object: { id: "https://lessons.example.com/day-1" },
} as Statement;
const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });

function problem(token: string, signed: Statement = statement): string {
  try {
    verifySignature(token, signed, "statement.attachments[0]");
  } catch (error) {
    expect(error).toMatchObject({ status: 400, code: "invalid_signature" });
    return (error as Error).message;
  }
  throw new Error("expected the signature to be refused");
}

describe("Data 2.6 signatures", () => {
  it("accepts RS256, RS384 and RS512 over the statement", () => {
    for (const alg of ["RS256", "RS384", "RS512"]) {
      expect(() => verifySignature(jws(statement, privateKey, { alg }), statement, "s")).not.toThrow();
    }
  });

  it("accepts a payload that differs only where statements may (attachments, authority, stored)", () => {
    const stored = {
      ...statement,
      authority: { mbox: "mailto:lrs@example.com" },
      stored: "2026-01-01T00:00:00Z",
    } as Statement;
    expect(() => verifySignature(jws(statement, privateKey), stored, "s")).not.toThrow();
  });

  it("compares result.duration to 0.01 s only (2.0.0 Data 4.2.7)", () => {
    const short = { ...statement, result: { duration: "P1DT12H36M0.12S" } } as Statement;
    const full = { ...statement, result: { duration: "P1DT12H36M0.1237S" } } as Statement;
    expect(() => verifySignature(jws(short, privateKey), full, "s")).not.toThrow();
    const other = { ...statement, result: { duration: "P1DT12H36M0.13S" } } as Statement;
    expect(problem(jws(short, privateKey), other)).toMatch(/differs from the statement/);
  });

  it("refuses another algorithm, naming it", () => {
    expect(problem(jws(statement, privateKey, { alg: "HS256" }))).toMatch(
      /statement\.attachments\[0\] uses the JWS algorithm "HS256"; use RS256, RS384 or RS512/,
    );
    expect(problem(jws(statement, privateKey, { typ: "JWT" }))).toMatch(/JWS algorithm undefined/);
  });

  it("refuses what is not a compact JWS, a header or payload that is not JSON", () => {
    expect(problem("not a jws")).toMatch(/not a JWS in compact serialization/);
    expect(problem("e30.e30")).toMatch(/not a JWS in compact serialization/);
    const [, payload, signature] = jws(statement, privateKey).split(".");
    expect(problem(`bm90IGpzb24.${payload}.${signature}`)).toMatch(/header that is not JSON/);
    expect(problem(jws(JSON.stringify(statement).replace('"', "'"), privateKey))).toMatch(
      /payload that is not a JSON serialization/,
    );
  });

  it("refuses a payload that differs from the statement, or has another id", () => {
    const other = { ...statement, verb: { id: "http://adlnet.gov/expapi/verbs/failed" } };
    expect(problem(jws(other, privateKey))).toMatch(/payload that differs from the statement/);
    const otherId = { ...statement, id: "00000000-0000-4000-8000-000000000000" };
    expect(problem(jws(otherId, privateKey))).toMatch(/payload that differs from the statement/);
  });

  describe("with an x5c certificate chain", () => {
    let leafKey: KeyObject;
    let leaf: string;
    let ca: string;
    let stranger: string;

    beforeAll(() => {
      const dir = mkdtempSync(path.join(tmpdir(), "cohort-lrs-x5c-"));
      const openssl = (...args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: "pipe" });
      const selfSigned = (name: string) =>
        openssl(
          "req",
          "-x509",
          "-newkey",
          "rsa:2048",
          "-nodes",
          "-keyout",
          `${name}.key`,
          "-out",
          `${name}.pem`,
          "-subj",
          `/CN=${name}`,
          "-days",
          "2",
        );
      selfSigned("ca");
      selfSigned("stranger");
      openssl(
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "leaf.key",
        "-out",
        "leaf.csr",
        "-subj",
        "/CN=signer",
      );
      openssl(
        "x509",
        "-req",
        "-in",
        "leaf.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "leaf.pem",
        "-days",
        "2",
      );
      const der = (name: string) =>
        new X509Certificate(readFileSync(path.join(dir, `${name}.pem`))).raw.toString("base64");
      leaf = der("leaf");
      ca = der("ca");
      stranger = der("stranger");
      leafKey = createPrivateKey(readFileSync(path.join(dir, "leaf.key")));
    });

    it("accepts a signature by the first certificate's key, issued by the next", () => {
      const token = jws(statement, leafKey, { alg: "RS384", x5c: [leaf, ca] });
      expect(() => verifySignature(token, statement, "s")).not.toThrow();
    });

    it("refuses a signature the certificate's key does not verify", () => {
      expect(problem(jws(statement, privateKey, { alg: "RS256", x5c: [leaf, ca] }))).toMatch(
        /signature that the key of its x5c certificate does not verify/,
      );
    });

    it("refuses a chain whose certificates are not linked", () => {
      expect(problem(jws(statement, leafKey, { alg: "RS256", x5c: [leaf, stranger] }))).toMatch(
        /x5c chain whose certificate 0 is not issued by certificate 1/,
      );
    });

    it("refuses an x5c that is not a list of readable certificates", () => {
      expect(problem(jws(statement, leafKey, { alg: "RS256", x5c: "abc" }))).toMatch(/not a list/);
      expect(problem(jws(statement, leafKey, { alg: "RS256", x5c: ["bm90IGEgY2VydA"] }))).toMatch(
        /cannot be read/,
      );
    });
  });
});
