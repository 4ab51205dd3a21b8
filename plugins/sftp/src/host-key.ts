/**
 * Host key verification. The server's key is always checked, against an OpenSSH SHA256
 * fingerprint or a known_hosts text from the connection; a host we know nothing about is
 * refused with its fingerprint in the message, never trusted on first use: a pipeline runs
 * unattended, so nobody would be there to compare the fingerprint, and the first connection
 * is exactly the one an attacker in the middle would answer.
 */
import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import { SftpError } from "./errors.js";

/** What the connection says the server's key is. */
export type HostKeyPolicy =
  | { readonly kind: "fingerprints"; readonly fingerprints: readonly string[] }
  | { readonly kind: "known_hosts"; readonly entries: readonly KnownHost[] }
  | { readonly kind: "none" };

export interface KnownHost {
  readonly marker: "revoked" | "cert-authority" | undefined;
  /** Comma-separated patterns, or one hashed name (`|1|salt|hash`). */
  readonly hosts: string;
  readonly keyType: string;
  /** The key's SSH wire encoding (the base64 field, decoded). */
  readonly key: Buffer;
}

/** What a verification concluded; `error` says why a key was refused. */
export type Verdict = { readonly ok: true } | { readonly ok: false; readonly error: SftpError };

/** OpenSSH's `SHA256:<base64 without padding>` of a key's wire encoding, as `ssh-keygen -lf` prints it. */
export function fingerprint(key: Buffer): string {
  return `SHA256:${createHash("sha256").update(key).digest("base64").replace(/=+$/, "")}`;
}

/** The key type named at the start of a wire-encoded key (`ssh-ed25519`). */
export function keyTypeOf(key: Buffer): string {
  if (key.length < 4) return "unknown";
  const length = key.readUInt32BE(0);
  return key.length >= 4 + length ? key.subarray(4, 4 + length).toString("latin1") : "unknown";
}

const FINGERPRINT = /^SHA256:[A-Za-z0-9+/]{43}$/;

/** Reads extra.host_key_fingerprint and extra.known_hosts; a malformed value is a connection error naming the field. */
export function hostKeyPolicy(extra: Readonly<Record<string, unknown>>, connectionId: string): HostKeyPolicy {
  const raw = extra.host_key_fingerprint;
  if (raw !== undefined && raw !== null && raw !== "") {
    // A list lets a key rotation be prepared: old and new key are both accepted for a while.
    const values = (Array.isArray(raw) ? raw : String(raw).split(/[\s,]+/)).map((v) => String(v).trim().replace(/=+$/, "")).filter(Boolean);
    const bad = values.find((v) => !FINGERPRINT.test(v));
    if (bad !== undefined || values.length === 0) {
      throw new SftpError(
        "SFTP_CONNECTION_INVALID",
        `connection ${connectionId}: extra.host_key_fingerprint ${JSON.stringify(bad ?? raw)} is not an OpenSSH SHA256 fingerprint`,
        "write it as `ssh-keygen -lf <key.pub>` prints it, e.g. `SHA256:` followed by 43 base64 characters (MD5 fingerprints are not accepted)",
      );
    }
    return { kind: "fingerprints", fingerprints: values };
  }
  const text = extra.known_hosts;
  if (typeof text === "string" && text.trim() !== "") return { kind: "known_hosts", entries: parseKnownHosts(text, connectionId) };
  return { kind: "none" };
}

/** The lines of an OpenSSH known_hosts text (sshd(8), SSH_KNOWN_HOSTS FILE FORMAT). */
export function parseKnownHosts(text: string, connectionId = "?"): KnownHost[] {
  const entries: KnownHost[] = [];
  for (const [i, line] of text.split(/\r?\n/).entries()) {
    const fields = line.trim().split(/\s+/);
    if (fields[0] === "" || fields[0]!.startsWith("#")) continue;
    const marker = fields[0] === "@revoked" ? "revoked" : fields[0] === "@cert-authority" ? "cert-authority" : undefined;
    if (marker) fields.shift();
    const [hosts, keyType, base64] = fields;
    const key = base64 && /^[A-Za-z0-9+/]+=*$/.test(base64) ? Buffer.from(base64, "base64") : undefined;
    // The key names its own type: a line whose key does not is damaged or not a known_hosts line.
    if (!hosts || !keyType || !key || keyTypeOf(key) !== keyType) {
      throw new SftpError(
        "SFTP_CONNECTION_INVALID",
        `connection ${connectionId}: line ${i + 1} of extra.known_hosts is not a known_hosts line`,
        "each line is `<host patterns> <key type> <base64 key>`, as `ssh-keyscan -t ed25519 <host>` prints it",
      );
    }
    entries.push({ marker, hosts, keyType, key });
  }
  return entries;
}

/** Whether a known_hosts host field names `host` on `port` (plain patterns with `*`/`?`/`!`, or hashed names). */
export function hostMatches(field: string, host: string, port: number): boolean {
  // OpenSSH writes non-default ports as `[host]:port` and compares lower-cased names.
  const name = (port === 22 ? host : `[${host}]:${port}`).toLowerCase();
  if (field.startsWith("|1|")) {
    const [, , salt = "", hash = ""] = field.split("|");
    const expected = Buffer.from(hash, "base64");
    const actual = createHmac("sha1", Buffer.from(salt, "base64")).update(name).digest();
    return expected.length === actual.length && timingSafeEqual(expected, actual);
  }
  let matched = false;
  for (const pattern of field.toLowerCase().split(",")) {
    const negated = pattern.startsWith("!");
    if (!wildcard(negated ? pattern.slice(1) : pattern).test(name)) continue;
    if (negated) return false; // a negated match wins over any positive one
    matched = true;
  }
  return matched;
}

function wildcard(pattern: string): RegExp {
  const source = pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".");
  return new RegExp(`^${source}$`);
}

/** The key types known_hosts lists for this host, so the client asks the server for one it can check. */
export function knownKeyTypes(policy: HostKeyPolicy, host: string, port: number): string[] | undefined {
  if (policy.kind !== "known_hosts") return undefined;
  const types = new Set<string>();
  for (const e of policy.entries) {
    if (e.marker !== undefined || !hostMatches(e.hosts, host, port)) continue;
    // An RSA key is announced as ssh-rsa but negotiated with the SHA-2 signature algorithms.
    if (e.keyType === "ssh-rsa") ["rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"].forEach((t) => types.add(t));
    else types.add(e.keyType);
  }
  return types.size > 0 ? [...types] : undefined;
}

/** Checks the key the server presented; the refusal says what was expected and where the fix goes. */
export function verifyHostKey(policy: HostKeyPolicy, key: Buffer, where: { host: string; port: number; connectionId: string }): Verdict {
  const got = fingerprint(key);
  const type = keyTypeOf(key);
  const server = `${where.host}:${where.port}`;
  const unknown = (why: string): Verdict => ({
    ok: false,
    error: new SftpError(
      "SFTP_HOST_KEY_UNKNOWN",
      `refusing ${server}: ${why}. The server presented the ${type} host key ${got}`,
      `confirm ${got} with the server's owner (\`ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub\` on the server), then set extra.host_key_fingerprint to "${got}" in connection ${where.connectionId}, or add the server's line to extra.known_hosts`,
    ),
  });
  const mismatch = (expected: string): Verdict => ({
    ok: false,
    error: new SftpError(
      "SFTP_HOST_KEY_MISMATCH",
      `refusing ${server}: it presented the ${type} host key ${got}, but connection ${where.connectionId} expects ${expected}`,
      "the server's key changed, or another machine answers in its place: ask the server's owner which, and only then update the connection",
    ),
  });

  switch (policy.kind) {
    case "none":
      return unknown(`connection ${where.connectionId} names no host key (extra.host_key_fingerprint or extra.known_hosts)`);
    case "fingerprints":
      return policy.fingerprints.includes(got) ? { ok: true } : mismatch(policy.fingerprints.join(" or "));
    case "known_hosts": {
      const entries = policy.entries.filter((e) => hostMatches(e.hosts, where.host, where.port));
      if (entries.some((e) => e.marker === "revoked" && e.key.equals(key))) {
        return mismatch(`a key other than ${got}, which its known_hosts marks @revoked`);
      }
      const keys = entries.filter((e) => e.marker === undefined);
      if (keys.some((e) => e.key.equals(key))) return { ok: true };
      if (keys.length === 0) {
        const name = where.port === 22 ? where.host : `[${where.host}]:${where.port}`;
        return unknown(`extra.known_hosts of connection ${where.connectionId} has no line for ${name} (certificate authorities are not supported)`);
      }
      return mismatch(keys.map((e) => `${e.keyType} ${fingerprint(e.key)}`).join(" or "));
    }
  }
}
