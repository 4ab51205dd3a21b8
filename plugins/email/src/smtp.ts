/**
 * The SMTP server an alert goes through, read from the connection exactly as Airflow's
 * SmtpHook reads it, so one connection serves the alerts xo-foundry sends and those of the
 * generated DAG's SmtpNotifier:
 *
 * - `host`, `port` (by default 465 with SSL, else 25, smtplib's defaults);
 * - `login` and `password`: AUTH when both are set;
 * - `extra.disable_ssl`: without it the connection is SMTPS (TLS from the first byte);
 * - `extra.disable_tls`: without it a plain connection must upgrade with STARTTLS;
 * - `extra.timeout` in seconds, `extra.ssl_context` (`default` verifies the server's
 *   certificate, `none` does not), `extra.from_email`, and `extra.auth_type: oauth2` with
 *   `extra.access_token` (XOAUTH2).
 *
 * The `disable_*` flags are read with Python's truthiness, as Airflow reads them: any
 * non-empty string is true, so write JSON booleans.
 */
import { describeConnection, registerSecret, type Connection } from "@xo-foundry/core";
import { EmailError } from "./errors.js";

export interface SmtpTarget {
  readonly host: string;
  readonly port: number;
  /** SMTPS: TLS from the first byte. */
  readonly secure: boolean;
  /** A plain connection must upgrade with STARTTLS (refused when the server does not offer it). */
  readonly startTls: boolean;
  readonly verifyCertificate: boolean;
  readonly auth?: { readonly user: string; readonly pass: string } | { readonly type: "OAuth2"; readonly user: string; readonly accessToken: string };
  /** Seconds, from `extra.timeout`. */
  readonly timeoutSeconds?: number;
  /** `extra.from_email`. */
  readonly fromEmail?: string;
}

export function smtpTarget(connection: Connection): SmtpTarget {
  const where = describeConnection(connection.id);
  const invalid = (what: string, fix: string) => new EmailError("EMAIL_CONNECTION_INVALID", `the email alert's ${where} ${what}`, fix);
  const extra = connection.extra;
  if (!connection.host) throw invalid("has no host", "set the host of the SMTP server, e.g. smtp.example.com, and its port");
  const secure = !truthy(extra.disable_ssl);
  const sslContext = extra.ssl_context ?? "default";
  if (sslContext !== "default" && sslContext !== "none") throw invalid(`has \`extra.ssl_context\` ${JSON.stringify(sslContext)}`, "set it to `default` (verify the server's certificate) or `none`, as Airflow's SmtpHook accepts");
  const target: { -readonly [K in keyof SmtpTarget]: SmtpTarget[K] } = {
    host: connection.host,
    port: connection.port ?? (secure ? 465 : 25),
    secure,
    startTls: !secure && !truthy(extra.disable_tls),
    verifyCertificate: sslContext === "default",
  };
  if (extra.timeout !== undefined && extra.timeout !== null) {
    const seconds = Number(extra.timeout);
    if (!Number.isFinite(seconds) || seconds <= 0) throw invalid("has an `extra.timeout` that is not a number of seconds above 0", "set it to a number such as 30, or remove it");
    target.timeoutSeconds = seconds;
  }
  if (typeof extra.from_email === "string" && extra.from_email !== "") target.fromEmail = extra.from_email;
  const authType = extra.auth_type ?? "basic";
  if (authType === "oauth2") {
    const token = extra.access_token;
    if (typeof token !== "string" || token === "") {
      throw invalid("has `auth_type: oauth2` without `extra.access_token`", "put an OAuth 2 access token into `extra.access_token` (xo-foundry does not fetch tokens with client credentials), or use a login and password");
    }
    const user = connection.login || target.fromEmail;
    if (!user) throw invalid("has `auth_type: oauth2` but no login or `extra.from_email` to authenticate as", "set the login to the mailbox the token belongs to");
    registerSecret(token);
    target.auth = { type: "OAuth2", user, accessToken: token };
  } else if (authType !== "basic") {
    throw invalid(`has \`extra.auth_type\` ${JSON.stringify(authType)}`, "set it to `basic` (login and password) or `oauth2` (with `extra.access_token`)");
  } else if (connection.login && connection.password) {
    registerSecret(connection.password, { login: connection.login });
    target.auth = { user: connection.login, pass: connection.password };
  }
  return target;
}

/** The part of nodemailer's SMTP transport options we set (declared here, so our types do not need nodemailer's). */
export interface TransportOptions {
  readonly host: string;
  readonly port: number;
  readonly secure: boolean;
  readonly requireTLS: boolean;
  readonly ignoreTLS: boolean;
  readonly auth?: SmtpTarget["auth"];
  readonly tls: { readonly rejectUnauthorized: boolean };
  readonly connectionTimeout: number;
  readonly greetingTimeout: number;
  readonly socketTimeout: number;
  readonly logger: false;
  readonly debug: false;
}

/** nodemailer's options for the target: no pooling, our timeout on every stage, no logging. */
export function transportOptions(target: SmtpTarget, timeoutMs: number): TransportOptions {
  return {
    host: target.host,
    port: target.port,
    secure: target.secure,
    requireTLS: target.startTls,
    ignoreTLS: !target.secure && !target.startTls,
    ...(target.auth ? { auth: target.auth } : {}),
    tls: { rejectUnauthorized: target.verifyCertificate },
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: timeoutMs,
    logger: false,
    debug: false,
  };
}

/** Python's `bool(value)`, which Airflow applies to the flags in `extra`. */
function truthy(value: unknown): boolean {
  if (value === undefined || value === null || value === false || value === 0 || value === "") return false;
  if (Array.isArray(value)) return value.length > 0;
  if (typeof value === "object") return Object.keys(value).length > 0;
  return true;
}
