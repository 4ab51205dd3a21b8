/**
 * The text of an alert in Slack's mrkdwn: the title in bold, what happened, and a link to
 * the log. Written twice, once here for alerts xo-foundry sends itself and once as a Jinja
 * template for Airflow's notifiers, and both give the same text for the same alert.
 *
 * Slack reads `&`, `<` and `>` as control characters, so text must carry them as `&amp;`,
 * `&lt;` and `&gt;` and nothing else is escaped (https://api.slack.com/reference/surfaces/formatting#escaping).
 * A link is `<url|label>`: in its URL `&` is escaped the same way, and `|`, `<` and `>`,
 * which would end the URL early, are percent-encoded.
 */
import { jinjaInert, type AirflowArgument, type AirflowMessage, type AlertMessage } from "@xo-foundry/core";

export function escapeMrkdwn(text: string): string {
  return text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;");
}

export function escapeLinkUrl(url: string): string {
  return url.replaceAll("&", "&amp;").replaceAll("|", "%7C").replaceAll("<", "%3C").replaceAll(">", "%3E");
}

/** The message text, as Slack shows it. */
export function slackText(message: AlertMessage): string {
  const body = escapeMrkdwn(`*${message.title}*\n${message.text}`);
  return message.logUrl ? `${body}\n<${escapeLinkUrl(message.logUrl)}|log>` : body;
}

/**
 * The same text as a Jinja template of the message's Airflow templates: a `filter` block
 * escapes whatever the title and text render to, and the log URL is rendered once into a
 * variable so the link appears only when there is one. No newline follows a block tag, so
 * an environment with `trim_blocks` renders it alike.
 */
export function slackTextTemplate(message: AirflowMessage): string {
  const { title, text, log_url: logUrl } = message.fields;
  const escape = `replace("&", "&amp;")|replace("<", "&lt;")|replace(">", "&gt;")`;
  const escapeUrl = `replace("&", "&amp;")|replace("|", "%7C")|replace("<", "%3C")|replace(">", "%3E")`;
  return (
    `{% filter ${escape} %}*${template(title)}*\n${template(text)}{% endfilter %}` +
    `{% set xo_log_url %}${template(logUrl)}{% endset %}` +
    `{{ "\\n<" ~ (xo_log_url|${escapeUrl}) ~ "|log>" if xo_log_url else "" }}`
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
