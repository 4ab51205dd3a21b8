/**
 * The Slack emulator refuses what Slack documents as refused (see its header for the
 * documents), so the notifier tests cannot pass against a receiver more lenient than Slack.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSlackReceiver, type SlackReceiver } from "./__fixtures__/slack_server.js";

let slack: SlackReceiver;
beforeAll(async () => {
  slack = await startSlackReceiver();
});
afterAll(async () => {
  await slack.close();
});

async function post(url: string, body: string, headers: Record<string, string> = { "content-type": "application/json" }) {
  const res = await fetch(url, { method: "POST", headers, body });
  return { status: res.status, text: await res.text(), retryAfter: res.headers.get("retry-after") };
}

describe("incoming webhooks", () => {
  it("answers 200 ok for a JSON message, and the legacy `payload` form field", async () => {
    const url = slack.webhookUrl();
    expect(await post(url, JSON.stringify({ text: "hi" }))).toMatchObject({ status: 200, text: "ok" });
    const form = new URLSearchParams({ payload: JSON.stringify({ text: "hi again" }) }).toString();
    expect(await post(url, form, { "content-type": "application/x-www-form-urlencoded" })).toMatchObject({ status: 200, text: "ok" });
    expect(slack.messages.slice(-2).map((m) => m.text)).toEqual(["hi", "hi again"]);
  });

  it("refuses an unknown webhook, a body that is not JSON, a message without text", async () => {
    expect(await post(`${slack.url}/services/T1/B1/nope`, JSON.stringify({ text: "x" }))).toMatchObject({ status: 404, text: "no_service" });
    const url = slack.webhookUrl();
    expect(await post(url, "{not json")).toMatchObject({ status: 400, text: "invalid_payload" });
    expect(await post(url, JSON.stringify({ text: " " }))).toMatchObject({ status: 400, text: "no_text" });
    expect(await post(url, JSON.stringify({ blocks: [{ type: "divider" }] }))).toMatchObject({ status: 200 });
  });

  it("answers scripted failures with Slack's statuses, then recovers", async () => {
    const url = slack.webhookUrl();
    slack.script({ error: "channel_is_archived" }, { rateLimited: 7 }, { serverError: 500 });
    expect(await post(url, JSON.stringify({ text: "x" }))).toMatchObject({ status: 410, text: "channel_is_archived" });
    expect(await post(url, JSON.stringify({ text: "x" }))).toMatchObject({ status: 429, retryAfter: "7" });
    expect(await post(url, JSON.stringify({ text: "x" }))).toMatchObject({ status: 500, text: "rollup_error" });
    expect(await post(url, JSON.stringify({ text: "x" }))).toMatchObject({ status: 200, text: "ok" });
  });
});

describe("chat.postMessage", () => {
  const call = (body: string, headers: Record<string, string>) => post(`${slack.url}/api/chat.postMessage`, body, headers).then((r) => JSON.parse(r.text) as Record<string, unknown>);

  it("posts with a bearer token and a JSON body, or a token form field", async () => {
    const json = await call(JSON.stringify({ channel: "#data-alerts", text: "hi" }), { "content-type": "application/json; charset=utf-8", authorization: `Bearer ${slack.botToken}` });
    expect(json).toMatchObject({ ok: true, channel: "C0DATAALRT1" });
    const form = await call(new URLSearchParams({ token: slack.botToken, channel: "C0DATAALRT1", text: "hi" }).toString(), { "content-type": "application/x-www-form-urlencoded" });
    expect(form).toMatchObject({ ok: true });
  });

  it("refuses what Slack refuses", async () => {
    const auth = { authorization: `Bearer ${slack.botToken}` };
    // A JSON body cannot carry the token.
    expect(await call(JSON.stringify({ token: slack.botToken, channel: "C0DATAALRT1", text: "x" }), { "content-type": "application/json" })).toEqual({ ok: false, error: "not_authed" });
    expect(await call(JSON.stringify({ channel: "C0DATAALRT1", text: "x" }), { "content-type": "application/json", authorization: "Bearer xoxb-wrong" })).toEqual({ ok: false, error: "invalid_auth" });
    expect(await call(JSON.stringify({ channel: "#elsewhere", text: "x" }), { "content-type": "application/json", ...auth })).toEqual({ ok: false, error: "channel_not_found" });
    expect(await call(JSON.stringify({ channel: "C0DATAALRT1", text: "", blocks: "[]" }), { "content-type": "application/json", ...auth })).toEqual({ ok: false, error: "no_text" });
    expect(await call("{", { "content-type": "application/json", ...auth })).toEqual({ ok: false, error: "invalid_json" });
    expect(await call("x", { "content-type": "text/plain", ...auth })).toEqual({ ok: false, error: "invalid_post_type" });
  });
});
