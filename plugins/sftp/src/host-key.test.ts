/** known_hosts matching as OpenSSH does it: hashed names, ports, wildcards, negation, @revoked. */
import { createHmac, randomBytes } from "node:crypto";
import { expect, test } from "vitest";
import { fingerprint, hostKeyPolicy, hostMatches, parseKnownHosts, verifyHostKey } from "./host-key.js";

// An ssh-ed25519 key's wire encoding: string "ssh-ed25519", string <32 bytes>.
const wire = (fill: number) => {
  const type = Buffer.from("ssh-ed25519");
  const key = Buffer.alloc(32, fill);
  const out = Buffer.alloc(4 + type.length + 4 + key.length);
  out.writeUInt32BE(type.length, 0);
  type.copy(out, 4);
  out.writeUInt32BE(key.length, 4 + type.length);
  key.copy(out, 8 + type.length);
  return out;
};
const KEY = wire(1);
const OTHER = wire(2);
const line = (hosts: string, key = KEY) => `${hosts} ssh-ed25519 ${key.toString("base64")}`;
const where = { host: "sftp.example.com", port: 22, connectionId: "partner" };

test("fingerprints are OpenSSH's SHA256 form, without padding", () => {
  expect(fingerprint(KEY)).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
});

test("host patterns: plain, [host]:port, wildcards, negation, and hashed names", () => {
  expect(hostMatches("sftp.example.com,10.0.0.1", "sftp.example.com", 22)).toBe(true);
  expect(hostMatches("sftp.example.com", "sftp.example.com", 2222)).toBe(false);
  expect(hostMatches("[sftp.example.com]:2222", "sftp.example.com", 2222)).toBe(true);
  expect(hostMatches("*.example.com,!evil.example.com", "sftp.example.com", 22)).toBe(true);
  expect(hostMatches("*.example.com,!evil.example.com", "evil.example.com", 22)).toBe(false);
  const salt = randomBytes(20);
  const hash = createHmac("sha1", salt).update("[sftp.example.com]:2222").digest("base64");
  expect(hostMatches(`|1|${salt.toString("base64")}|${hash}`, "sftp.example.com", 2222)).toBe(true);
  expect(hostMatches(`|1|${salt.toString("base64")}|${hash}`, "sftp.example.com", 22)).toBe(false);
});

test("verdicts: accepted, mismatch, unknown, revoked", () => {
  const policy = (text: string) => ({ kind: "known_hosts" as const, entries: parseKnownHosts(text) });
  expect(verifyHostKey(policy(line("sftp.example.com")), KEY, where)).toEqual({ ok: true });
  const mismatch = verifyHostKey(policy(line("sftp.example.com", OTHER)), KEY, where);
  expect(mismatch.ok || mismatch.error.code).toBe("SFTP_HOST_KEY_MISMATCH");
  const unknown = verifyHostKey(policy(line("other.example.com")), KEY, where);
  expect(unknown.ok || unknown.error.message).toContain(fingerprint(KEY));
  const revoked = verifyHostKey(policy(`@revoked ${line("*")}\n${line("sftp.example.com")}`), KEY, where);
  expect(revoked.ok || revoked.error.code).toBe("SFTP_HOST_KEY_MISMATCH");
  expect(verifyHostKey({ kind: "none" }, KEY, where)).toMatchObject({ ok: false, error: { code: "SFTP_HOST_KEY_UNKNOWN" } });
});

test("a list of fingerprints accepts any of them (key rotation); bad lines are connection errors", () => {
  const policy = hostKeyPolicy({ host_key_fingerprint: `${fingerprint(OTHER)}, ${fingerprint(KEY)}` }, "partner");
  expect(verifyHostKey(policy, KEY, where)).toEqual({ ok: true });
  expect(() => parseKnownHosts("not a known hosts line")).toThrow(expect.objectContaining({ code: "SFTP_CONNECTION_INVALID" }));
});
