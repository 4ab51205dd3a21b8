/**
 * The Gmail source against the testkit's source contract, through an attachment stream: the
 * emulator (src/__fixtures__/gmail_server.ts) holds the records as NDJSON attachments of
 * labelled messages in the window, several messages and pages of them, and the source lands
 * those files. A scripted server that never answers stands in for a hung Gmail; a `user_id`
 * the credentials may not read makes Gmail refuse (403). The token endpoint is the testkit's.
 */
import type { JsonObject } from "@xo-foundry/core";
import { describeSource, useScriptedServer, type SourceScenario } from "@xo-foundry/testkit";
import { gmail } from "./index.js";
import { at, CONNECTION_ID, mailboxWithClient, sourceBlock, useServers } from "./__fixtures__/harness.js";

const servers = useServers();
const hung = useScriptedServer();

const RECORDS_PER_FILE = 60;
const stream = { content: "attachments", labels: ["Reports"], load_attachments_as: "ndjson" };

function mailboxHolding(records: readonly JsonObject[]): SourceScenario {
  const messages = [];
  for (let i = 0, n = 0; i < records.length || n === 0; i += RECORDS_PER_FILE, n++) {
    const ndjson = records
      .slice(i, i + RECORDS_PER_FILE)
      .map((r) => `${JSON.stringify(r)}\n`)
      .join("");
    // Contract contexts cover 2026-01-15 (UTC).
    messages.push({ internalDate: at("2026-01-15T06:00:00Z") + n * 60_000, labels: ["Reports"], attachments: [{ filename: `part-${n}.ndjson`, mimeType: "application/x-ndjson", content: ndjson }] });
  }
  const { connection } = mailboxWithClient(servers, { labels: [{ name: "Reports" }], messages });
  return { options: sourceBlock(servers, { max_results: 2 }), stream, connection };
}

describeSource({
  plugin: gmail(),
  // The source blocks and streams the README shows.
  examples: [
    { options: { user_id: "me", subject: "reports@example.com" }, stream: { labels: ["Vendors"], query: "from:billing@vendor.example has:attachment", include_body: false } },
    {
      options: { user_id: "me", subject: "reports@example.com" },
      stream: { content: "attachments", labels: ["Vendors"], attachments: { filename: "*.csv", mime_types: ["text/csv"], max_bytes: 26214400 }, load_attachments_as: "csv" },
    },
    { options: {}, stream: { labels: ["Vendors"], incremental: "history" } },
  ],
  serve: (records) => {
    servers.gmail.reset();
    return mailboxHolding(records);
  },
  stall() {
    hung.reset();
    hung.route({ path: /.*/, respond: { stall: true } });
    const client = servers.oauth.client({ refreshToken: true });
    return {
      options: sourceBlock(servers, { root_url: `${hung.url}/` }),
      stream,
      connection: { id: CONNECTION_ID, login: client.clientId, password: client.clientSecret, extra: { refresh_token: client.refreshToken! } },
    };
  },
  refuse() {
    servers.gmail.reset();
    const scenario = mailboxHolding([{ id: 1 }]);
    // Gmail answers 403 "Delegation denied" for a mailbox the credentials do not act as.
    return { ...scenario, options: { ...scenario.options, user_id: "someone-else@example.com" } };
  },
});
