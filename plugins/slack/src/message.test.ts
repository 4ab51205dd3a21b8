import { describe, expect, it } from "vitest";
import { airflowMessage, type AirflowMessage } from "@xo-foundry/core";
import { escapeLinkUrl, escapeMrkdwn, slackText, slackTextTemplate, template } from "./message.js";

describe("Slack text", () => {
  it("escapes exactly &, < and >, the characters Slack reads as control characters", () => {
    expect(escapeMrkdwn(`a & b <@U123> <!channel> "q" 'q' *bold* | x`)).toBe(`a &amp; b &lt;@U123&gt; &lt;!channel&gt; "q" 'q' *bold* | x`);
    // Already-escaped text is escaped again: it is text, not markup.
    expect(escapeMrkdwn("&amp;")).toBe("&amp;amp;");
  });

  it("keeps a link's URL in one piece", () => {
    expect(escapeLinkUrl("http://h/a?x=1&y=<2>|3")).toBe("http://h/a?x=1&amp;y=%3C2%3E%7C3");
  });

  it("leaves the link out when there is no log URL", () => {
    const text = slackText({ event: "success", pipeline: "p", dagId: "p", logicalDate: "2026-01-15", runId: "r", title: "p: run succeeded (2026-01-15)", text: "run r succeeded" });
    expect(text).toBe("*p: run succeeded (2026-01-15)*\nrun r succeeded");
  });
});

describe("the Airflow template", () => {
  it("escapes what the core's templates render, and links the log only when there is one", () => {
    const t = slackTextTemplate(airflowMessage("failure", "orders", "orders"));
    expect(t.startsWith('{% filter replace("&", "&amp;")|replace("<", "&lt;")|replace(">", "&gt;") %}*orders: task {{ ti.task_id }} failed')).toBe(true);
    expect(t).toMatch(/\{% set xo_log_url %\}\{\{ ti\.log_url [^}]*\}\}\{% endset %\}/);
    expect(t.endsWith('{{ "\\n<" ~ (xo_log_url|replace("&", "&amp;")|replace("|", "%7C")|replace("<", "%3C")|replace(">", "%3E")) ~ "|log>" if xo_log_url else "" }}')).toBe(true);
  });

  it("makes plain-text fields inert, so Jinja renders them as they are", () => {
    const base = airflowMessage("success", "orders", "orders");
    const message: AirflowMessage = { ...base, fields: { ...base.fields, title: "{{ 7 * 7 }} {% if %}", log_url: null } };
    const t = slackTextTemplate(message);
    expect(t).toContain("*{{ '{' }}{ 7 * 7 }} {{ '{' }}% if %}*");
    expect(t).toContain("{% set xo_log_url %}{% endset %}");
    expect(template(42)).toBe("42");
    expect(() => template(["a"])).toThrow(/list or a dict/);
  });
});
