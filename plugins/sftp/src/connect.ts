/**
 * Opening an SFTP session from an Airflow-style `sftp` connection: host, port, login, and a
 * password or `extra.private_key` (+ `extra.passphrase`). The host key is verified first
 * (host-key.ts). Network failures are retried with backoff; a refused login or host key
 * never is, since trying again cannot change the answer and only locks accounts.
 */
import type SftpClient from "ssh2-sftp-client";
import type { Client, ConnectConfig, SFTPWrapper } from "ssh2";
import { backoffDelay, connectionEnvVar, registerSecret, sleep, type Connection, type Logger } from "@xo-foundry/core";
import { SftpError } from "./errors.js";
import { hostKeyPolicy, knownKeyTypes, verifyHostKey, type Verdict } from "./host-key.js";

export interface ConnectTuning {
  /** Retries after network failures (refused, reset, timed out). */
  readonly retries: number;
  /** Longest wait for the SSH handshake and login, in seconds. */
  readonly timeoutSeconds: number;
  /** First retry delay; doubles on each retry (with jitter). */
  readonly backoffMs?: number;
}

/** One open SFTP session. `close` is safe to call twice; an abort of the signal destroys the socket. */
export interface SftpSession {
  readonly sftp: SFTPWrapper;
  /** The helper library's client, for `mkdir -p` and listings. */
  readonly client: SftpClient;
  /** Whether the server offers posix-rename@openssh.com (an atomic rename over an existing file). */
  readonly posixRename: boolean;
  close(): Promise<void>;
}

export async function openSession(
  connection: Connection | undefined,
  tuning: ConnectTuning,
  ctx: { readonly log: Logger; readonly signal: AbortSignal },
): Promise<SftpSession> {
  const settings = connectSettings(connection);
  for (let attempt = 0; ; attempt++) {
    ctx.signal.throwIfAborted();
    try {
      return await connectOnce(settings, tuning, ctx);
    } catch (e) {
      if (ctx.signal.aborted) throw ctx.signal.reason;
      if (!(e instanceof SftpError) || e.code !== "SFTP_CONNECT_FAILED" || attempt >= tuning.retries) throw e;
      const delay = backoffDelay(attempt, tuning.backoffMs ?? 1000, 30_000);
      ctx.log.warn(`could not reach ${settings.where}, retrying in ${delay} ms (${attempt + 1}/${tuning.retries})`, { error: e.message });
      await sleep(delay, ctx.signal);
    }
  }
}

/** A remote folder as a dataset URI for a step's `writes` (`sftp://host:port/folder`); never holds credentials. */
export function folderUri(connection: Connection | undefined, folder: string): string {
  const server = `sftp://${connection?.host ?? ""}${connection?.port ? `:${connection.port}` : ""}`;
  return `${server}${folder.startsWith("/") ? "" : "/"}${folder}`;
}

interface Settings {
  readonly id: string;
  readonly where: string;
  readonly config: ConnectConfig;
  readonly policy: ReturnType<typeof hostKeyPolicy>;
}

/** Reads the connection; registers every credential with the redactor before anything can print it. */
export function connectSettings(connection: Connection | undefined): Settings {
  if (!connection) {
    throw new SftpError("SFTP_CONNECTION_INVALID", "no connection is configured for SFTP", "name one with `connection:` and define it in XO_CONN_<ID> or Airflow");
  }
  const id = connection.id;
  const extra = connection.extra ?? {};
  const text = (key: string): string | undefined => (typeof extra[key] === "string" && extra[key] !== "" ? (extra[key] as string) : undefined);
  // Keys pasted into JSON often arrive with literal `\n` instead of line breaks.
  const privateKey = text("private_key")?.replace(/\\n/g, "\n");
  const passphrase = text("passphrase") ?? text("private_key_passphrase");
  registerSecret(connection.password, { login: connection.login });
  registerSecret(privateKey);
  registerSecret(passphrase);
  const invalid = (what: string, fix: string) =>
    new SftpError("SFTP_CONNECTION_INVALID", `connection ${id} (${connectionEnvVar(id)}): ${what}`, fix);
  if (!connection.host) throw invalid("no host", "set `host` to the server's name or address");
  if (!connection.login) throw invalid("no login", "set `login` to the SFTP user name");
  if (!connection.password && !privateKey) throw invalid("neither a password nor extra.private_key", "set `password`, or put an OpenSSH private key in extra.private_key");
  const host = connection.host.replace(/^sftp:\/\//, "");
  const port = connection.port ?? 22;
  const policy = hostKeyPolicy(extra, id);
  const serverHostKey = knownKeyTypes(policy, host, port);
  return {
    id,
    where: `${host}:${port}`,
    policy,
    config: {
      host,
      port,
      username: connection.login,
      ...(connection.password ? { password: connection.password } : {}),
      ...(privateKey ? { privateKey, ...(passphrase ? { passphrase } : {}) } : {}),
      ...(serverHostKey ? { algorithms: { serverHostKey: serverHostKey as NonNullable<ConnectConfig["algorithms"]>["serverHostKey"] } } : {}),
      // Only the methods the connection has credentials for: no agent, no keyboard prompts.
      tryKeyboard: false,
      keepaliveInterval: 15_000,
      keepaliveCountMax: 4,
    },
  };
}

// The SSH library loads with the first connection, not when the plugin is discovered: every
// CLI command discovers plugins, and most of them (validate, generate) connect to nothing.
let sftpClass: Promise<typeof SftpClient> | undefined;
const loadSftp = () => (sftpClass ??= import("ssh2-sftp-client").then((m) => m.default));

async function connectOnce(settings: Settings, tuning: ConnectTuning, ctx: { readonly log: Logger; readonly signal: AbortSignal }): Promise<SftpSession> {
  const { host, port } = settings.config as { host: string; port: number };
  // The library reports connection-level events to these; failures reach us through the promises instead.
  const Sftp = await loadSftp();
  const client = new Sftp("xo-foundry", { error: (e) => ctx.log.debug(`sftp: ${String((e as Error)?.message ?? e)}`), end: () => {}, close: () => {} });
  const ssh = (client as unknown as { client: Client }).client;
  let verdict: Verdict | undefined;
  let level: string | undefined;
  const onError = (e: Error & { level?: string }) => (level ??= e.level);
  ssh.prependListener("error", onError);
  const destroy = () => ssh.destroy();
  ctx.signal.addEventListener("abort", destroy, { once: true });
  try {
    const sftp = await client.connect({
      ...settings.config,
      readyTimeout: tuning.timeoutSeconds * 1000,
      hostVerifier: (key: Buffer) => {
        verdict = verifyHostKey(settings.policy, key, { host, port, connectionId: settings.id });
        return verdict.ok;
      },
    });
    ssh.removeListener("error", onError);
    const extensions = (sftp as unknown as { _extensions?: Record<string, string> })._extensions ?? {};
    let closed = false;
    return {
      sftp,
      client,
      posixRename: extensions["posix-rename@openssh.com"] === "1",
      async close() {
        ctx.signal.removeEventListener("abort", destroy);
        if (closed) return;
        closed = true;
        await client.end().catch(() => ssh.destroy());
      },
    };
  } catch (e) {
    ctx.signal.removeEventListener("abort", destroy);
    ssh.destroy();
    if (ctx.signal.aborted) throw ctx.signal.reason;
    throw connectError(e, verdict, level, settings);
  }
}

const NETWORK = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH", "EPIPE", "EAI_AGAIN"]);

function connectError(e: unknown, verdict: Verdict | undefined, level: string | undefined, s: Settings): SftpError {
  if (verdict && !verdict.ok) return verdict.error;
  const detail = e instanceof Error ? e.message : String(e);
  const code = (e as { code?: unknown } | null)?.code;
  if (level === "client-authentication") {
    return new SftpError(
      "SFTP_AUTH_FAILED",
      `${s.where} refused the login of ${JSON.stringify(s.config.username)} (connection ${s.id})`,
      `check login, password and extra.private_key in ${connectionEnvVar(s.id)}; for a key, its public half must be in the account's authorized_keys`,
      { cause: e },
    );
  }
  if (/privateKey|passphrase|private key/i.test(detail)) {
    return new SftpError(
      "SFTP_CONNECTION_INVALID",
      `connection ${s.id}: extra.private_key cannot be read: ${detail}`,
      "give an OpenSSH or PEM private key; an encrypted key needs its passphrase in extra.passphrase",
      { cause: e },
    );
  }
  if (level === "client-timeout" || (typeof code === "string" && NETWORK.has(code)) || level === "client-socket") {
    return new SftpError("SFTP_CONNECT_FAILED", `could not connect to ${s.where} (connection ${s.id}): ${detail}`, "check host, port and the network path, and that the server is up", {
      cause: e,
    });
  }
  return new SftpError("SFTP_CONNECT_FAILED", `SFTP session with ${s.where} failed (connection ${s.id}): ${detail}`, "check that the server speaks SFTP on this port", { cause: e });
}
