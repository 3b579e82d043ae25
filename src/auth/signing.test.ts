import { describe, expect, it } from "vitest";
import { signToken, verifyToken } from "./signing.ts";

const SECRET = "signing-test-secret-0123456789-abcdefghij";
const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/** Other spellings of the same signature bytes, which a lenient base64url decoder accepts. */
function alteredEncodings(token: string): string[] {
  const dot = token.lastIndexOf(".");
  const subject = token.slice(0, dot);
  const signature = token.slice(dot + 1);
  const last = ALPHABET.indexOf(signature.at(-1)!);
  // 32 bytes are 43 characters: the last one carries 4 bits and 2 unused ones.
  const otherTrailingBits = [1, 2, 3].map((bits) => signature.slice(0, -1) + ALPHABET[last ^ bits]);
  return [
    ...otherTrailingBits.map((spelled) => `${subject}.${spelled}`),
    `${subject}.${signature}=`,
    `${subject}.${signature}==`,
    `${subject}.${signature.replace(/-/g, "+").replace(/_/g, "/")}`,
    `${subject}.${signature} `,
    `${subject}.${signature.slice(0, 20)}\n${signature.slice(20)}`,
  ];
}

describe("signed tokens", () => {
  it("accept the token as signed, for its purpose and key only", () => {
    const token = signToken(SECRET, "unsubscribe", "a-subject");
    expect(verifyToken(SECRET, "unsubscribe", token)).toBe("a-subject");
    expect(verifyToken(SECRET, "admin-session", token)).toBeUndefined();
    expect(verifyToken(`${SECRET}x`, "unsubscribe", token)).toBeUndefined();
    expect(verifyToken(SECRET, "unsubscribe", token.replace("a-subject", "b-subject"))).toBeUndefined();
  });

  it("refuse every other encoding of a valid signature: trailing bits, padding, +/ and whitespace", () => {
    // Subjects whose signatures contain both '-' and '_', so the +/ spelling differs.
    const tokens = Array.from({ length: 200 }, (_, i) =>
      signToken(SECRET, "unsubscribe", `subject-${i}`),
    ).filter((token) => /[-_]/.test(token.slice(token.lastIndexOf(".") + 1)));
    expect(tokens.length).toBeGreaterThan(20);
    for (const token of tokens) {
      const altered = alteredEncodings(token);
      // The alterations really are the same bytes to a base64 decoder: they would pass a bytewise check.
      const signature = Buffer.from(token.slice(token.lastIndexOf(".") + 1), "base64url");
      for (const spelled of altered) {
        const bytes = Buffer.from(spelled.slice(spelled.lastIndexOf(".") + 1), "base64");
        expect(bytes.equals(signature)).toBe(true);
        expect(verifyToken(SECRET, "unsubscribe", spelled)).toBeUndefined();
      }
    }
  });
});
