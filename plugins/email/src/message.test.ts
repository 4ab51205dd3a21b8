import { describe, expect, it } from "vitest";
import { airflowMessage } from "@xo-foundry/core";
import { emailContent, escapeHtml, htmlTemplate } from "./message.js";

describe("email content", () => {
  it("escapes HTML as Jinja's escape filter does", () => {
    expect(escapeHtml(`<a href="x">it's & more</a>`)).toBe("&lt;a href=&#34;x&#34;&gt;it&#39;s &amp; more&lt;/a&gt;");
  });

  it("has no log line or link without a log URL, and a one-line subject", () => {
    const c = emailContent({ event: "success", pipeline: "p", dagId: "p", logicalDate: "2026-01-15", runId: "r", title: "p: run\r\nBcc: x@y.z", text: "run r succeeded" });
    expect(c.subject).toBe("p: run Bcc: x@y.z");
    expect(c.text).toBe("p: run\r\nBcc: x@y.z\n\nrun r succeeded\n");
    expect(c.html).not.toContain("<a ");
  });

  it("templates the HTML from the core's message templates", () => {
    const t = htmlTemplate(airflowMessage("failure", "orders", "orders"));
    expect(t.startsWith("<p><strong>{% filter escape %}orders: task {{ ti.task_id }} failed")).toBe(true);
    expect(t).toMatch(/\{% set xo_log_url %\}\{\{ ti\.log_url [^}]*\}\}\{% endset %\}/);
    expect(t.endsWith(`{{ '\\n<p><a href="' ~ (xo_log_url|escape) ~ '">log</a></p>' if xo_log_url else '' }}`)).toBe(true);
  });
});
