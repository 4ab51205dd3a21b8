import { afterEach, describe, expect, it } from "vitest";
import { diagnostic, formatDiagnostic } from "./errors.js";
import { clearSecrets, MIN_SECRET_LENGTH, redact, registerSecret } from "./redact.js";

afterEach(clearSecrets);

// Quotes, a backslash, a slash, a space, a plus and a non-ASCII letter: every escaping differs.
const SECRET = `s3cr"et'/\\pa ss+wörd`;
const LOGIN = "agent@acme.com";

const b64 = (s: string) => Buffer.from(s).toString("base64");
const b64url = (s: string) => Buffer.from(s).toString("base64url");
const json = (s: string) => JSON.stringify(s).slice(1, -1);

/** How APIs, libraries and our own output write the same secret. */
const ENCODINGS: Record<string, string> = {
  raw: SECRET,
  "JSON string": json(SECRET),
  "JSON with \\/ (PHP, some Java)": json(SECRET).replaceAll("/", "\\/"),
  "JSON, ASCII only (Python json.dumps)": json(SECRET).replace("ö", "\\u00f6"),
  "JSON, ASCII only, upper-case hex": json(SECRET).replace("ö", "\\u00F6"),
  "JSON inside JSON (a JSON-escaped echo in --json output)": json(json(SECRET)),
  "JS single-quoted literal": SECRET.replace(/[\\']/g, "\\$&"),
  "backslash before every punctuation character (shell, regex)": SECRET.replace(/[^A-Za-z0-9ö]/g, "\\$&"),
  encodeURIComponent: encodeURIComponent(SECRET),
  "percent-encoding with lower-case hex": encodeURIComponent(SECRET).replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase()),
  "form encoding (+ for space)": new URLSearchParams({ q: SECRET }).toString().slice(2),
  base64: b64(SECRET),
  "base64 without padding": b64(SECRET).replace(/=+$/, ""),
  base64url: b64url(SECRET),
  "Basic auth (base64 of login:secret)": b64(`${LOGIN}:${SECRET}`),
  "base64url of login:secret": b64url(`${LOGIN}:${SECRET}`),
};

describe("redact", () => {
  it.each(Object.entries(ENCODINGS))("masks the secret written as %s", (_name, encoded) => {
    registerSecret(SECRET, { login: LOGIN });
    const masked = redact(`before ${encoded} after`);
    expect(masked).not.toContain(encoded);
    expect(masked).toMatch(/^before \S*\*\*\*\S* after$/);
  });

  it("masks the base64 of a secret inside a longer base64 blob, at any byte offset", () => {
    registerSecret(SECRET);
    for (const prefix of ["", "x", "xy", '{"token":"', "Authorization: someone-else:"]) {
      const blob = b64(`${prefix}${SECRET}";rest`);
      const masked = redact(`payload=${blob}`);
      expect(masked, prefix).toContain("***");
      // What is left of the blob can no longer be decoded to the secret.
      expect(Buffer.from(masked.replace("payload=", "").replace("***", ""), "base64").toString("latin1"), prefix).not.toContain("pa ss");
    }
  });

  it("masks a base64 credential header whose login it was not told", () => {
    registerSecret("tok-0123456789abcdef");
    for (const login of ["a", "ab", "abc", "someone@example.com"]) {
      expect(redact(`Basic ${b64(`${login}:tok-0123456789abcdef`)}`)).toContain("***");
    }
  });

  it("masks every occurrence, overlapping secrets whole, and leaves the rest of the text alone", () => {
    registerSecret("abcdef-123");
    registerSecret("def-123-xyz");
    expect(redact("a abcdef-123 b abcdef-123-xyz c def-123-xyz")).toBe("a *** b *** c ***");
    expect(redact("no secrets here")).toBe("no secrets here");
  });

  it(`does not mask secrets shorter than ${MIN_SECRET_LENGTH} characters, which would garble every message`, () => {
    expect(MIN_SECRET_LENGTH).toBe(5);
    for (const short of ["a", "ab", "abc", "abcd", "/", "\\"]) registerSecret(short);
    expect(redact('GET /a/ab/abcd?x="\\"')).toBe('GET /a/ab/abcd?x="\\"');
    registerSecret("abcde");
    expect(redact("GET /abcde")).toBe("GET /***");
  });

  it("stays linear on long adversarial text and many secrets", () => {
    for (let i = 0; i < 50; i++) registerSecret(`${"a".repeat(40)}${i}-secret`);
    const text = "a".repeat(2_000_000);
    const started = performance.now();
    expect(redact(text)).toBe(text);
    expect(redact(`${text}0-secret`)).toBe(`${"a".repeat(2_000_000 - 40)}***`);
    console.log(`redact: 2 x 2 MB against ${50} secrets in ${(performance.now() - started).toFixed(0)} ms`);
  });
});

describe("what the CLI prints", () => {
  it("masks a JSON-escaped token that an API echoed into an error, in text and in --json output", () => {
    registerSecret(SECRET);
    // An API echoes the request body; the plugin puts the body into its error.
    const body = JSON.stringify({ error: "invalid token", token: SECRET });
    const d = diagnostic("XO_STEP_FAILED", { plugin: "api", hook: "extract", task: "extract_orders", detail: `HTTP 401: ${body}` });
    // output.ts: redact(formatDiagnostic(d)) for people, redact(JSON.stringify(value, null, 2)) for --json.
    const text = redact(formatDiagnostic(d));
    const asJson = redact(JSON.stringify({ ok: false, diagnostics: [d] }, null, 2));
    for (const out of [text, asJson]) {
      expect(out).not.toContain("pa ss");
      expect(out).not.toContain(json(SECRET));
    }
    expect(text).toContain('"token":"***"');
    expect(asJson).toContain('\\"token\\":\\"***\\"');
  });
});
