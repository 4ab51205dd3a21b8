/**
 * A real OpenSSH sshd on 127.0.0.1 and a free port, one per test file, from a config and
 * keys generated in a temp dir (tools/sftp/README.md). It runs as root so that it can
 * check the password of the test-only system user `xo-sftp-test`, which tools/sftp/setup.sh
 * creates; logins are limited to that user, and to 127.0.0.1. A missing sshd or user is a
 * setup failure, never a skipped test.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { chmod, chown, mkdir, mkdtemp, readFile, rm, utimes, writeFile } from "node:fs/promises";
import { connect, createServer, type Server } from "node:net";
import os from "node:os";
import path from "node:path";
import type { Connection } from "@xo-foundry/core";
import { freePort } from "@xo-foundry/testkit";
import { fingerprint } from "../host-key.js";

export const SSHD = "/usr/sbin/sshd";
export const TEST_USER = "xo-sftp-test";
/** Set by tools/sftp/setup.sh; test-only, usable only through the tests' own sshd. */
export const TEST_PASSWORD = "xo-sftp-test-password";
const KEY_PASSPHRASE = "correct horse battery staple";

export interface Sshd {
  readonly port: number;
  /** Folder on the server the tests read and write (owned by the test user). */
  readonly root: string;
  /** `SHA256:...` of the host key the server presents, and of another key it does not have. */
  readonly fingerprint: string;
  readonly otherFingerprint: string;
  /** The server's line for a known_hosts file (`[127.0.0.1]:port ssh-ed25519 AAAA...`), and one with the other key. */
  readonly knownHostsLine: string;
  readonly otherKnownHostsLine: string;
  readonly clientKey: string;
  readonly encryptedClientKey: string;
  /** A valid key that the test user's authorized_keys does not list. */
  readonly strangerKey: string;
  readonly passphrase: string;
  /** A connection that logs in with the password and checks the host key fingerprint. */
  connection(overrides?: Partial<Connection> & { extra?: Record<string, unknown> }): Connection;
  /** Writes a file under `root` as the test user would have, with the given mtime. */
  put(relative: string, content: string | Buffer, mtime?: Date): Promise<string>;
  /** Creates a folder under `root` the test user may write to. */
  folder(relative: string): Promise<string>;
  stop(): Promise<void>;
}

function setupFailure(what: string): Error {
  return new Error(`${what}. The SFTP tests need a real OpenSSH sshd and the test user ${TEST_USER}: run \`npm test\` at the repo root (it runs tools/setup.mjs), or \`node tools/setup.mjs\` as root`);
}

export async function startSshd(): Promise<Sshd> {
  if (!existsSync(SSHD)) throw setupFailure(`${SSHD} not found`);
  if (process.getuid?.() !== 0) throw setupFailure("sshd must run as root to check the test user's password, and this process is not root");
  const ids = userIds(TEST_USER);
  if (!ids) throw setupFailure(`the system user ${TEST_USER} does not exist`);

  const dir = await mkdtemp(path.join(os.tmpdir(), "xo-sftp-"));
  // The test user walks through this folder to its data; sshd wants nothing in it group- or world-writable.
  await chmod(dir, 0o755);
  const root = path.join(dir, "data");
  await mkdir(root, { mode: 0o755 });
  await chown(root, ids.uid, ids.gid);
  const keygen = (file: string, passphrase = "") => {
    const r = spawnSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", passphrase, "-C", "xo-foundry-test", "-f", path.join(dir, file)], { encoding: "utf8" });
    if (r.status !== 0) throw new Error(`ssh-keygen failed: ${r.stderr}`);
  };
  keygen("host_key");
  keygen("other_host_key");
  keygen("client_key");
  keygen("client_key_encrypted", KEY_PASSPHRASE);
  keygen("stranger_key");
  const publicKey = async (file: string) => (await readFile(path.join(dir, `${file}.pub`), "utf8")).trim();
  await mkdir(path.join(dir, "authorized_keys"));
  await writeFile(path.join(dir, "authorized_keys", TEST_USER), `${await publicKey("client_key")}\n${await publicKey("client_key_encrypted")}\n`, { mode: 0o644 });

  const port = await freePort();
  const config = [
    `ListenAddress 127.0.0.1:${port}`,
    `HostKey ${path.join(dir, "host_key")}`,
    `PidFile ${path.join(dir, "sshd.pid")}`,
    `AuthorizedKeysFile ${path.join(dir, "authorized_keys", "%u")}`,
    "UsePAM no",
    "StrictModes no",
    "PasswordAuthentication yes",
    "KbdInteractiveAuthentication no",
    "PubkeyAuthentication yes",
    "PermitRootLogin no",
    `AllowUsers ${TEST_USER}`,
    "Subsystem sftp internal-sftp",
    // Relative paths (and the README examples) resolve in the data folder, as on a partner server that starts users in their home.
    `ForceCommand internal-sftp -d ${root}`,
    "AllowTcpForwarding no",
    "X11Forwarding no",
    // Tests open many short sessions at once (a reader polls while an upload runs).
    "MaxStartups 100",
    "MaxSessions 20",
    "LogLevel VERBOSE",
  ].join("\n");
  await writeFile(path.join(dir, "sshd_config"), `${config}\n`, { mode: 0o600 });
  // sshd (run as root) checks its privilege separation folder even with -D; /run is a tmpfs.
  await mkdir("/run/sshd", { recursive: true, mode: 0o755 });

  const child = spawn(SSHD, ["-D", "-e", "-f", path.join(dir, "sshd_config")], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => (stderr = (stderr + d.toString()).slice(-8000)));
  await waitForBanner(port, child, () => stderr);

  const hostPublic = await publicKey("host_key");
  const otherPublic = await publicKey("other_host_key");
  const blob = (line: string) => Buffer.from(line.split(/\s+/)[1]!, "base64");
  const known = (line: string) => `[127.0.0.1]:${port} ${line.split(/\s+/).slice(0, 2).join(" ")}`;
  const hostFingerprint = fingerprint(blob(hostPublic));

  return {
    port,
    root,
    fingerprint: hostFingerprint,
    otherFingerprint: fingerprint(blob(otherPublic)),
    knownHostsLine: known(hostPublic),
    otherKnownHostsLine: known(otherPublic),
    clientKey: await readFile(path.join(dir, "client_key"), "utf8"),
    encryptedClientKey: await readFile(path.join(dir, "client_key_encrypted"), "utf8"),
    strangerKey: await readFile(path.join(dir, "stranger_key"), "utf8"),
    passphrase: KEY_PASSPHRASE,
    connection(overrides = {}) {
      const { extra, ...rest } = overrides;
      return {
        id: "partner_sftp",
        type: "sftp",
        host: "127.0.0.1",
        port,
        login: TEST_USER,
        password: TEST_PASSWORD,
        ...rest,
        extra: { host_key_fingerprint: hostFingerprint, ...(extra ?? {}) },
      };
    },
    async put(relative, content, mtime) {
      const file = path.join(root, relative);
      await ensureFolder(root, path.dirname(relative), ids);
      await writeFile(file, content);
      await chown(file, ids.uid, ids.gid);
      if (mtime) await utimes(file, mtime, mtime);
      return file;
    },
    async folder(relative) {
      await ensureFolder(root, relative, ids);
      return path.join(root, relative);
    },
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once("exit", resolve));
        child.kill("SIGTERM");
        const timer = setTimeout(() => child.kill("SIGKILL"), 3000);
        await exited;
        clearTimeout(timer);
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function ensureFolder(root: string, relative: string, ids: { uid: number; gid: number }): Promise<void> {
  let current = root;
  for (const part of relative.split("/").filter((p) => p !== "" && p !== ".")) {
    current = path.join(current, part);
    await mkdir(current, { recursive: true, mode: 0o755 });
    await chown(current, ids.uid, ids.gid);
  }
}

function userIds(name: string): { uid: number; gid: number } | undefined {
  const uid = spawnSync("id", ["-u", name], { encoding: "utf8" });
  const gid = spawnSync("id", ["-g", name], { encoding: "utf8" });
  if (uid.status !== 0 || gid.status !== 0) return undefined;
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

/** Up when the port answers with an SSH identification line. */
async function waitForBanner(port: number, child: ChildProcess, stderr: () => string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`sshd exited with code ${child.exitCode}: ${stderr()}`);
    const banner = await new Promise<string>((resolve) => {
      const socket = connect(port, "127.0.0.1");
      let data = "";
      const done = () => {
        socket.destroy();
        resolve(data);
      };
      socket.setTimeout(1000, done);
      socket.on("data", (d) => {
        data += d.toString("latin1");
        if (data.includes("\n")) done();
      });
      socket.on("error", done);
      socket.on("close", done);
    });
    if (banner.startsWith("SSH-2.0-")) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`sshd did not answer on 127.0.0.1:${port} within 15 s: ${stderr()}`);
}

/** A TCP server that takes connections and never says a word, as a hung SSH server does. */
export async function startSilentServer(): Promise<{ readonly port: number; close(): Promise<void> }> {
  const sockets = new Set<import("node:net").Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  return {
    port: typeof address === "object" && address ? address.port : 0,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

export function sha256(data: Buffer | string): string {
  return createHash("sha256").update(data).digest("hex");
}
