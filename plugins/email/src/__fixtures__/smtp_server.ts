/**
 * A real SMTP server on 127.0.0.1 for alert tests: the `smtp-server` package (Nodemailer's
 * server, RFC 5321), plain text without TLS, with AUTH PLAIN/LOGIN when `auth` is given. It
 * refuses what a mail server refuses: a transaction without AUTH when AUTH is required
 * (530), wrong credentials (535), recipients of domains it does not serve (550, when
 * `domains` is given), and scripted replies for the next transactions (421, 451, 550, ...).
 *
 * Each accepted message is parsed enough to assert on (RFC 5322 headers with folded lines,
 * RFC 2047 encoded words in the subject, RFC 2045/2046 multipart bodies in base64,
 * quoted-printable, 7bit or 8bit, UTF-8 text): subject, text and HTML parts.
 *
 * `connection()` is the Airflow JSON connection to this server, with `disable_ssl` and
 * `disable_tls` set since it has no TLS: Airflow's SmtpHook and our sender both connect in
 * plain text then.
 */
import type { AddressInfo } from "node:net";
import { SMTPServer, type SMTPServerAuthentication, type SMTPServerDataStream, type SMTPServerSession } from "smtp-server";

export interface ReceivedMail {
  /** The envelope: MAIL FROM and every RCPT TO. */
  readonly envelope: { readonly from: string; readonly to: readonly string[] };
  /** Who logged in, if anyone. */
  readonly user: string | undefined;
  /** Header names lower-cased, values unfolded (not decoded). */
  readonly headers: Readonly<Record<string, string>>;
  readonly subject: string;
  readonly text: string | undefined;
  readonly html: string | undefined;
  readonly raw: string;
}

/** A reply for the next transaction instead of accepting it: an SMTP reply code (4xx temporary, 5xx permanent). */
export interface ScriptedReply {
  readonly code: number;
  readonly message?: string;
  /** Where the server answers with it: MAIL FROM (default) or after DATA. */
  readonly at?: "mail" | "data";
}

export interface SmtpServerOptions {
  /** Require AUTH with these credentials. */
  readonly auth?: { readonly user: string; readonly pass: string };
  /** Accept recipients of these domains only (550 for others). */
  readonly domains?: readonly string[];
}

export interface TestSmtpServer {
  readonly host: "127.0.0.1";
  readonly port: number;
  readonly messages: ReceivedMail[];
  /** Makes the next transactions fail, one reply each, in order. */
  script(...replies: ScriptedReply[]): void;
  /** The Airflow JSON connection to this server (plain SMTP; with the credentials when AUTH is on). */
  connection(extra?: Readonly<Record<string, unknown>>): Record<string, unknown>;
  close(): Promise<void>;
}

export async function startSmtpServer(options: SmtpServerOptions = {}): Promise<TestSmtpServer> {
  const messages: ReceivedMail[] = [];
  const replies: ScriptedReply[] = [];
  const fail = (reply: ScriptedReply) => Object.assign(new Error(reply.message ?? (reply.code < 500 ? "Try again later" : "Transaction failed")), { responseCode: reply.code });

  const server = new SMTPServer({
    secure: false,
    // No TLS here: STARTTLS is not offered, so a client that insists on it fails as it would against such a server.
    disabledCommands: options.auth ? ["STARTTLS"] : ["STARTTLS", "AUTH"],
    authOptional: !options.auth,
    allowInsecureAuth: true,
    logger: false,
    onAuth(auth: SMTPServerAuthentication, _session: SMTPServerSession, callback) {
      const ok = options.auth && auth.username === options.auth.user && auth.password === options.auth.pass;
      if (!ok) return callback(Object.assign(new Error("Authentication failed"), { responseCode: 535 }));
      callback(null, { user: auth.username });
    },
    onMailFrom(_address, _session, callback) {
      if (replies[0] && (replies[0].at ?? "mail") === "mail") return callback(fail(replies.shift()!));
      callback();
    },
    onRcptTo(address, _session, callback) {
      const domain = address.address.split("@").pop()!.toLowerCase();
      if (options.domains && !options.domains.includes(domain)) {
        return callback(Object.assign(new Error(`<${address.address}>: Recipient address rejected: mailbox unavailable`), { responseCode: 550 }));
      }
      callback();
    },
    onData(stream: SMTPServerDataStream, session: SMTPServerSession, callback) {
      const chunks: Buffer[] = [];
      stream.on("data", (c: Buffer) => chunks.push(c));
      stream.on("end", () => {
        if (replies[0]?.at === "data") return callback(fail(replies.shift()!));
        const raw = Buffer.concat(chunks).toString("utf8");
        const from = session.envelope.mailFrom;
        messages.push({
          ...parseMail(raw),
          envelope: { from: from ? from.address : "", to: session.envelope.rcptTo.map((r) => r.address) },
          user: typeof session.user === "string" ? session.user : undefined,
          raw,
        });
        callback();
      });
    },
  });
  server.on("error", () => {}); // a client that drops the connection is not the server's failure
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.server.address() as AddressInfo).port;
  return {
    host: "127.0.0.1",
    port,
    messages,
    script: (...more) => void replies.push(...more),
    connection: (extra = {}) => ({
      conn_type: "smtp",
      host: "127.0.0.1",
      port,
      ...(options.auth ? { login: options.auth.user, password: options.auth.pass } : {}),
      extra: { disable_ssl: true, disable_tls: true, timeout: 10, ...extra },
    }),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

// ---------------------------------------------------------------- parsing

interface Part {
  readonly headers: Record<string, string>;
  readonly body: string;
}

function parseMail(raw: string): Omit<ReceivedMail, "envelope" | "user" | "raw"> {
  const top = splitPart(raw);
  const leaves = flatten(top);
  const find = (type: string) => leaves.find((p) => mediaType(p.headers) === type);
  const text = find("text/plain");
  const html = find("text/html");
  return {
    headers: top.headers,
    subject: decodeWords(top.headers.subject ?? ""),
    text: text && decodeBody(text),
    html: html && decodeBody(html),
  };
}

function splitPart(raw: string): Part {
  const normalized = raw.replace(/\r\n/g, "\n");
  const end = normalized.indexOf("\n\n");
  const head = end === -1 ? normalized : normalized.slice(0, end);
  const body = end === -1 ? "" : normalized.slice(end + 2);
  const headers: Record<string, string> = {};
  // RFC 5322 2.2.3: a line starting with white space continues the header above it.
  for (const line of head.replace(/\n[ \t]+/g, " ").split("\n")) {
    const colon = line.indexOf(":");
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { headers, body };
}

function flatten(part: Part): Part[] {
  const boundary = /boundary="?([^";]+)"?/i.exec(part.headers["content-type"] ?? "")?.[1];
  if (!mediaType(part.headers).startsWith("multipart/") || !boundary) return [part];
  const sections = part.body.split(`--${boundary}`).slice(1);
  return sections.filter((s) => !s.startsWith("--")).flatMap((s) => flatten(splitPart(s.replace(/^\n/, ""))));
}

function mediaType(headers: Record<string, string>): string {
  return (headers["content-type"] ?? "text/plain").split(";")[0]!.trim().toLowerCase();
}

function decodeBody(part: Part): string {
  const encoding = (part.headers["content-transfer-encoding"] ?? "7bit").toLowerCase();
  const body = part.body.replace(/\n$/, "");
  if (encoding === "base64") return Buffer.from(body.replace(/\s+/g, ""), "base64").toString("utf8");
  if (encoding === "quoted-printable") return quotedPrintable(body);
  return body;
}

/** RFC 2045 6.7: `=XX` bytes, and `=` at a line's end joins it with the next. */
function quotedPrintable(text: string): string {
  const joined = text.replace(/=\n/g, "");
  const bytes: number[] = [];
  for (let i = 0; i < joined.length; i++) {
    const hex = joined[i] === "=" ? /^[0-9A-Fa-f]{2}/.exec(joined.slice(i + 1, i + 3)) : null;
    if (hex) {
      bytes.push(parseInt(hex[0], 16));
      i += 2;
    } else {
      bytes.push(...Buffer.from(joined[i]!, "utf8"));
    }
  }
  return Buffer.from(bytes).toString("utf8");
}

/** RFC 2047 encoded words (`=?utf-8?B?...?=`, `=?utf-8?Q?...?=`); white space between two of them is dropped. */
function decodeWords(value: string): string {
  return value.replace(/(=\?[^?]+\?[BbQq]\?[^?]*\?=)\s+(?==\?)/g, "$1").replace(/=\?([^?]+)\?([BbQq])\?([^?]*)\?=/g, (_m, _charset: string, kind: string, data: string) =>
    kind.toUpperCase() === "B" ? Buffer.from(data, "base64").toString("utf8") : quotedPrintable(data.replace(/_/g, " ")),
  );
}
