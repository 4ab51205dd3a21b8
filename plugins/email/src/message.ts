/**
 * An alert as an email: the title is the subject; the body says the title again, what
 * happened and where the log is, as plain text and as HTML. The HTML is written twice,
 * here for alerts xo-foundry sends itself and as a Jinja template for Airflow's
 * SmtpNotifier (which sends HTML only), and both give the same HTML for the same alert.
 *
 * Everything from the alert is HTML-escaped the way Jinja's `escape` filter (markupsafe)
 * does it, `&`, `<`, `>`, `"` and `'`, so an error message cannot inject markup. The text
 * keeps its line breaks in a `pre-wrap` block.
 */
import { jinjaInert, type AirflowArgument, type AirflowMessage, type AlertMessage } from "@xo-foundry/core";

export interface EmailContent {
  readonly subject: string;
  readonly text: string;
  readonly html: string;
}

const PRE = '<pre style="white-space: pre-wrap; font-family: inherit">';

export function escapeHtml(text: string): string {
  return text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;").replaceAll('"', "&#34;").replaceAll("'", "&#39;");
}

export function emailContent(message: AlertMessage): EmailContent {
  const log = message.logUrl ? `\n<p><a href="${escapeHtml(message.logUrl)}">log</a></p>` : "";
  return {
    // A header is one line: a title never has a line break, but an accident must not add headers.
    subject: message.title.replace(/[\r\n]+/g, " "),
    text: `${message.title}\n\n${message.text}${message.logUrl ? `\n\nlog: ${message.logUrl}` : ""}\n`,
    html: `<p><strong>${escapeHtml(message.title)}</strong></p>\n${PRE}${escapeHtml(message.text)}</pre>${log}`,
  };
}

/**
 * The HTML as a template of the message's Airflow templates: `filter escape` blocks escape
 * what the title and text render to; the log URL is rendered once into a variable so the
 * link appears only when there is one. No newline follows a block tag, so an environment
 * with `trim_blocks` renders it alike.
 */
export function htmlTemplate(message: AirflowMessage): string {
  const { title, text, log_url: logUrl } = message.fields;
  return (
    `<p><strong>{% filter escape %}${template(title)}{% endfilter %}</strong></p>\n` +
    `${PRE}{% filter escape %}${template(text)}{% endfilter %}</pre>` +
    `{% set xo_log_url %}${template(logUrl)}{% endset %}` +
    `{{ '\\n<p><a href="' ~ (xo_log_url|escape) ~ '">log</a></p>' if xo_log_url else '' }}`
  );
}

/** A message field as template text: the core's templates as they are, plain text made inert. */
export function template(value: AirflowArgument): string {
  if (value === null) return "";
  if (typeof value === "string") return jinjaInert(value);
  if (typeof value === "object" && "jinja" in value) return value.jinja;
  if (typeof value !== "object") return jinjaInert(String(value));
  throw new Error("a message field is a list or a dict, not text");
}
