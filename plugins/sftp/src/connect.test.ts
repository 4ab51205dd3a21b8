/**
 * Host keys and logins against a real OpenSSH sshd (src/__fixtures__/sshd.ts): nothing here
 * is emulated.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { clearSecrets, type Connection } from "@xo-foundry/core";
import { recordingLogger, rejectionOf } from "@xo-foundry/testkit";
import { openSession } from "./connect.js";
import { startSilentServer, startSshd, TEST_PASSWORD, type Sshd } from "./__fixtures__/sshd.js";

let sshd: Sshd;
beforeAll(async () => {
  sshd = await startSshd();
});
afterAll(async () => {
  await sshd?.stop();
  clearSecrets();
});

const tuning = { retries: 0, timeoutSeconds: 10 };

async function connectWith(connection: Connection, log = recordingLogger(), retries = 0) {
  const session = await openSession(connection, { ...tuning, retries, backoffMs: 50 }, { log, signal: new AbortController().signal });
  const home = await session.client.cwd();
  await session.close();
  return home;
}

describe("host key", () => {
  test("the configured fingerprint is accepted", async () => {
    await expect(connectWith(sshd.connection())).resolves.toBeTypeOf("string");
  });

  test("another key's fingerprint is refused, naming the key the server presented", async () => {
    const e = await rejectionOf(() => connectWith(sshd.connection({ extra: { host_key_fingerprint: sshd.otherFingerprint } })));
    expect(e).toMatchObject({ code: "SFTP_HOST_KEY_MISMATCH" });
    expect(e.message).toContain(sshd.fingerprint);
    expect(e.message).toContain(sshd.otherFingerprint);
  });

  test("a host with no key configured is refused with its fingerprint and where to put it", async () => {
    const e = await rejectionOf(() => connectWith(sshd.connection({ extra: { host_key_fingerprint: undefined } })));
    expect(e).toMatchObject({ code: "SFTP_HOST_KEY_UNKNOWN" });
    expect(e.message).toContain(sshd.fingerprint);
    expect(e.message).toContain("extra.host_key_fingerprint");
  });

  test("known_hosts with the server's line is accepted; with another key it is a mismatch; without a line for the host, unknown", async () => {
    const knownHosts = (text: string) => sshd.connection({ extra: { host_key_fingerprint: undefined, known_hosts: text } });
    await expect(connectWith(knownHosts(`# partner\n${sshd.knownHostsLine}\n`))).resolves.toBeTypeOf("string");
    await expect(rejectionOf(() => connectWith(knownHosts(sshd.otherKnownHostsLine)))).resolves.toMatchObject({ code: "SFTP_HOST_KEY_MISMATCH" });
    const elsewhere = sshd.knownHostsLine.replace(/^\S+/, "sftp.example.com");
    const e = await rejectionOf(() => connectWith(knownHosts(elsewhere)));
    expect(e).toMatchObject({ code: "SFTP_HOST_KEY_UNKNOWN" });
    expect(e.message).toContain(sshd.fingerprint);
  });

  test("a refused host key is not retried", async () => {
    const log = recordingLogger();
    await rejectionOf(() => connectWith(sshd.connection({ extra: { host_key_fingerprint: sshd.otherFingerprint } }), log, 3));
    expect(log.warnings).toEqual([]);
  });

  test("a malformed fingerprint is a connection error naming the field", async () => {
    const e = await rejectionOf(() => connectWith(sshd.connection({ extra: { host_key_fingerprint: "MD5:aa:bb" } })));
    expect(e).toMatchObject({ code: "SFTP_CONNECTION_INVALID" });
    expect(e.message).toContain("extra.host_key_fingerprint");
  });
});

describe("login", () => {
  test("with a password", async () => {
    await expect(connectWith(sshd.connection())).resolves.toBeTypeOf("string");
  });

  test("with an ed25519 key", async () => {
    await expect(connectWith(sshd.connection({ password: undefined, extra: { private_key: sshd.clientKey } }))).resolves.toBeTypeOf("string");
  });

  test("with an encrypted key and its passphrase (also as a JSON-escaped one-line key)", async () => {
    const extra = { private_key: sshd.encryptedClientKey, passphrase: sshd.passphrase };
    await expect(connectWith(sshd.connection({ password: undefined, extra }))).resolves.toBeTypeOf("string");
    const oneLine = { ...extra, private_key: sshd.encryptedClientKey.replace(/\n/g, "\\n") };
    await expect(connectWith(sshd.connection({ password: undefined, extra: oneLine }))).resolves.toBeTypeOf("string");
  });

  test("an encrypted key with a wrong passphrase is a connection error that prints neither key nor passphrase", async () => {
    const passphrase = "not-the-passphrase-123";
    const e = await rejectionOf(() => connectWith(sshd.connection({ password: undefined, extra: { private_key: sshd.encryptedClientKey, passphrase } })));
    expect(e).toMatchObject({ code: "SFTP_CONNECTION_INVALID" });
    expect(e.message).not.toContain(passphrase);
    expect(e.message).not.toContain("PRIVATE KEY-----\n");
  });

  test("a wrong password fails with SFTP_AUTH_FAILED, at once, and the message holds no secret", async () => {
    const password = "wrong-password-4711";
    const log = recordingLogger();
    const e = await rejectionOf(() => connectWith(sshd.connection({ password }), log, 3));
    expect(e).toMatchObject({ code: "SFTP_AUTH_FAILED" });
    expect(e.message).not.toContain(password);
    expect(e.message).not.toContain(TEST_PASSWORD);
    expect(e.message).toContain("xo-sftp-test");
    expect(log.warnings).toEqual([]); // never retried
  });

  test("a key the account does not authorize fails with SFTP_AUTH_FAILED", async () => {
    const e = await rejectionOf(() => connectWith(sshd.connection({ password: undefined, extra: { private_key: sshd.strangerKey } })));
    expect(e).toMatchObject({ code: "SFTP_AUTH_FAILED" });
  });

  test("a connection without credentials is refused before connecting", async () => {
    const e = await rejectionOf(() => connectWith(sshd.connection({ password: undefined })));
    expect(e).toMatchObject({ code: "SFTP_CONNECTION_INVALID" });
  });
});

describe("network", () => {
  test("a closed port is retried with backoff, then fails with SFTP_CONNECT_FAILED", async () => {
    const silent = await startSilentServer();
    const port = silent.port;
    await silent.close(); // nothing listens there now
    const log = recordingLogger();
    const e = await rejectionOf(() => connectWith(sshd.connection({ port }), log, 2));
    expect(e).toMatchObject({ code: "SFTP_CONNECT_FAILED" });
    expect(log.warnings).toHaveLength(2);
  });

  test("an abort stops a connection attempt to a server that never answers", async () => {
    const silent = await startSilentServer();
    try {
      const controller = new AbortController();
      const reason = new Error("task killed");
      const attempt = openSession(sshd.connection({ port: silent.port }), tuning, { log: recordingLogger(), signal: controller.signal });
      setTimeout(() => controller.abort(reason), 200);
      await expect(attempt).rejects.toBe(reason);
    } finally {
      await silent.close();
    }
  });
});
