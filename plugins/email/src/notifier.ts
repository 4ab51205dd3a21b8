/**
 * The `email` notifier: an alert as one email through an SMTP server, to `to` (and `cc`).
 * The same alert from a generated DAG goes through Airflow's SmtpNotifier, with the same
 * connection, subject and HTML.
 */
import {
  DEFAULT_DELIVERY_POLICY,
  deliver,
  describeConnection,
  DeliveryExhausted,
  redact,
  TransientDeliveryError,
  type AirflowNotifier,
  type DeliveryPolicy,
  type NotifierDefinition,
  type NotifyContext,
} from "@xo-foundry/core";
import { z } from "zod";
import { EmailError } from "./errors.js";
import { emailContent, htmlTemplate } from "./message.js";
import { smtpTarget, transportOptions, type SmtpTarget } from "./smtp.js";

/** `someone@example.com`, or `Name <someone@example.com>`. */
const MAILBOX = /^(?:[^<>\r\n]*<[^<>@\s]+@[^<>@\s]+>|[^<>@\s]+@[^<>@\s]+)$/;

export const emailOptions = z.object({
  to: z.array(z.email()).min(1).describe("Who gets the alert: one or more addresses."),
  cc: z.array(z.email()).min(1).optional().describe("Who gets a copy."),
  from: z
    .string()
    .regex(MAILBOX, "expected an address, or `Name <address>`")
    .optional()
    .describe("The sender, `alerts@example.com` or `Data alerts <alerts@example.com>`; by default the connection's `extra.from_email`."),
});

export type EmailOptions = z.output<typeof emailOptions>;

/** The notifier, with a delivery policy (tests shorten the waits). */
export function emailNotifier(policy: DeliveryPolicy = DEFAULT_DELIVERY_POLICY): NotifierDefinition<EmailOptions> {
  return {
    id: "email",
    description: "Sends alerts by email through an SMTP server (text and HTML, with a link to the log); generated DAGs use Airflow's SmtpNotifier with the same connection.",
    options: emailOptions,
    connection: "required",
    send: (ctx) => send(ctx, policy),
    airflow({ options, connection, message }): AirflowNotifier {
      if (!connection) throw missingConnection();
      return {
        module: "airflow.providers.smtp.notifications.smtp",
        name: "SmtpNotifier",
        kwargs: {
          smtp_conn_id: connection,
          to: options.to,
          ...(options.cc ? { cc: options.cc } : {}),
          // None: the SmtpNotifier reads `extra.from_email` of the connection, as `send` does.
          from_email: options.from ?? null,
          subject: message.title,
          html_content: { jinja: htmlTemplate(message) },
        },
      };
    },
  };
}

async function send(ctx: NotifyContext<EmailOptions>, policy: DeliveryPolicy): Promise<void> {
  const { connection, options, signal, log } = ctx;
  if (!connection) throw missingConnection();
  const where = describeConnection(connection.id);
  const target = smtpTarget(connection);
  const from = options.from ?? target.fromEmail;
  if (!from) {
    throw new EmailError("EMAIL_NO_SENDER", `the email alert through ${where} has no sender`, "set `from` in the alert's `email:` block, or `extra.from_email` in the connection");
  }
  const content = emailContent(ctx.message);
  const timeoutMs = (target.timeoutSeconds ?? 0) * 1000 || policy.timeoutMs;
  const server = `${target.host}:${target.port}`;
  try {
    await deliver(() => sendOnce(target, timeoutMs, { from, to: [...options.to], ...(options.cc ? { cc: [...options.cc] } : {}), ...content }, signal, where), policy, signal, log, `email through ${server}`);
  } catch (e) {
    if (!(e instanceof DeliveryExhausted)) throw e;
    throw new EmailError(
      "EMAIL_UNAVAILABLE",
      `the email alert through ${where} (${server}) was not delivered: ${e.attempts} attempts failed, the last with ${e.last.detail}`,
      "check that this machine reaches the SMTP server at this host and port; the alert of this event is lost",
    );
  }
}

interface Mail {
  readonly from: string;
  readonly to: string[];
  readonly cc?: string[];
  readonly subject: string;
  readonly text: string;
  readonly html: string;
}

async function sendOnce(target: SmtpTarget, timeoutMs: number, mail: Mail, signal: AbortSignal, where: string): Promise<void> {
  const { default: nodemailer } = await import("nodemailer");
  const transport = nodemailer.createTransport(transportOptions(target, timeoutMs));
  const abort = () => transport.close();
  signal.addEventListener("abort", abort, { once: true });
  try {
    await transport.sendMail(mail);
  } catch (e) {
    signal.throwIfAborted();
    throw classify(e, target, where);
  } finally {
    signal.removeEventListener("abort", abort);
    transport.close();
  }
}

/** A temporary failure (4xx reply, network, timeout) is TransientDeliveryError; the rest ends the alert with what to fix. */
function classify(e: unknown, target: SmtpTarget, where: string): Error {
  const error = e as { code?: unknown; responseCode?: unknown; response?: unknown; command?: unknown; message?: unknown };
  const reply = typeof error.responseCode === "number" ? error.responseCode : undefined;
  const said = redact(String(typeof error.response === "string" ? error.response : (error.message ?? e)).replace(/\s+/g, " ").trim());
  const code = typeof error.code === "string" ? error.code : undefined;
  if (code === "ETLS") {
    return new EmailError(
      "EMAIL_CONNECTION_INVALID",
      `the SMTP server of ${where} (${target.host}:${target.port}) did not upgrade the connection with STARTTLS: ${said}`,
      "if the server has no TLS at all (a relay inside your network), set `extra.disable_tls: true` in the connection; otherwise check its port",
    );
  }
  if (reply !== undefined && reply >= 400 && reply < 500) return new TransientDeliveryError(`reply ${said}`);
  if (reply !== undefined && reply >= 500) {
    return new EmailError("EMAIL_REFUSED", `the mail server of ${where} refused the alert${commandOf(error.command)}: ${said}`, refusalFix(reply, code, target), reply);
  }
  if (code === "EDNS") {
    return new EmailError("EMAIL_CONNECTION_INVALID", `the email alert's ${where} names a host that does not resolve: ${said}`, "check the connection's host");
  }
  if (/wrong version number|unknown protocol|packet length too long/i.test(said)) {
    return new EmailError(
      "EMAIL_CONNECTION_INVALID",
      `the SMTP server of ${where} (${target.host}:${target.port}) does not speak SMTPS (TLS from the first byte): ${said}`,
      "for a server that starts in plain text (port 25 or 587) set `extra.disable_ssl: true` in the connection; STARTTLS stays required unless `extra.disable_tls: true`",
    );
  }
  if (code === "EAUTH") {
    return new EmailError("EMAIL_REFUSED", `the mail server of ${where} refused the login: ${said}`, "check the login and password (or `extra.access_token`) of the connection", reply);
  }
  return new TransientDeliveryError(`${code ? `${code}: ` : ""}${said}`);
}

function refusalFix(reply: number, code: string | undefined, target: SmtpTarget): string {
  if (reply === 535 || reply === 534 || code === "EAUTH") return "the login or password was refused: check them in the connection (an app password where the provider requires one)";
  if (reply === 530) return target.auth ? "the server wants TLS before login: remove `extra.disable_tls` so STARTTLS is used" : "the server wants a login: set the connection's login and password";
  if (reply === 550 || reply === 551 || reply === 553 || code === "EENVELOPE") return "the server does not take this sender or recipient: check `to`, `cc` and `from` (or `extra.from_email`), and that the login may send as the sender";
  if (reply === 552) return "the message is larger than the server takes; shorten the error output the alert quotes";
  return "see the server's reply; the fix depends on the mail server's policy";
}

function commandOf(command: unknown): string {
  return typeof command === "string" && command !== "" ? ` at ${command.split(" ")[0]}` : "";
}

function missingConnection(): EmailError {
  return new EmailError("EMAIL_CONNECTION_INVALID", "the email alert has no connection", "set `connection:` in the alert's `email:` block, e.g. `email: { connection: smtp, to: [data-team@example.com] }`");
}
