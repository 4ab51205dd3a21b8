/**
 * What the server knows from the project, through a real LSP client: references
 * completed from the validated pipeline (also while the text has an error elsewhere),
 * connection ids used across the project, step types with their descriptions, keys
 * inserted as blocks, the outline, and go to definition.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pathToFileURL } from "node:url";
import {
  CompletionRequest,
  DefinitionRequest,
  DocumentSymbolRequest,
  InsertTextFormat,
  type CompletionItem,
  type CompletionList,
  type DocumentSymbol,
  type Location,
  type Position,
  type TextEdit,
} from "vscode-languageserver-protocol/node";
import type { TestDir } from "@xo-foundry/testkit";
import { startClient, type LspClient } from "./__fixtures__/client.js";
import { helpdeskProject, THIRD_PARTY } from "./__fixtures__/project.js";

const TOOLS = "@acme/xo-foundry-plugin-tools";
const AUDIT_DESCRIPTION = "Writes an audit record of the run to Acme's ledger.";

/** A second installed plugin: a step type, and the step type that runs `checks:`. */
const TOOLS_FILES = {
  [`node_modules/${TOOLS}/package.json`]: JSON.stringify({ name: TOOLS, version: "0.1.0", type: "module", exports: { ".": "./index.js" }, "xo-foundry": { factory: "toolsPlugin" } }),
  [`node_modules/${TOOLS}/index.js`]: `import { z } from "zod";
import { definePlugin } from "@xo-foundry/core";
export const toolsPlugin = () => definePlugin({
  name: ${JSON.stringify(TOOLS)},
  version: "0.1.0",
  steps: [
    { id: "acme.audit", description: ${JSON.stringify(AUDIT_DESCRIPTION)}, connection: "optional", options: z.object({ note: z.string().optional() }), run: async () => ({ summary: {} }) },
    { id: "acme.checks", description: "Runs the pipeline's data quality checks.", handles: "checks", options: z.looseObject({}), run: async () => ({ summary: {} }) },
  ],
});
`,
};

/** Two streams, two steps (one after a template task, one after the other), checks on one stream. */
const ORDERS = `pipeline:
  name: orders
  start_date: 2026-01-01
  schedule: "@daily"
source:
  plugin: helpdesk
  connection: helpdesk_eu
  streams:
    - name: tickets
      status: open
    - name: agents
steps:
  - id: audit
    uses: acme.audit
    connection: ledger
    after:
      - load_tickets
  - id: audit_again
    uses: acme.audit
    after:
      - audit
checks:
  tickets:
    - row_count:
        min: 1
`;

/** Another pipeline of the project, with its own connections; one in a step, one in a sink. */
const PEOPLE = `pipeline:
  name: people
  start_date: 2026-01-01
source:
  plugin: helpdesk
  streams:
    - name: people
sink:
  plugin: vault
  connection: warehouse_prod
steps:
  - id: note
    uses: acme.audit
    connection: ledger
`;

const itemsOf = (items: CompletionItem[] | CompletionList | null) => (Array.isArray(items) ? items : (items?.items ?? []));
const labels = (items: CompletionItem[] | CompletionList | null) => itemsOf(items).map((i) => i.label);
const lineOf = (text: string, line: string) => {
  const i = text.split("\n").indexOf(line);
  if (i < 0) throw new Error(`no line ${JSON.stringify(line)}`);
  return i;
};
/** The text with `edit` applied (one line's range, as the server's edits are). */
const apply = (text: string, edit: TextEdit) => {
  const lines = text.split("\n");
  const line = lines[edit.range.start.line]!;
  lines[edit.range.start.line] = line.slice(0, edit.range.start.character) + edit.newText + line.slice(edit.range.end.character);
  return lines.join("\n");
};

let dir: TestDir;
let client: LspClient;
let plain: LspClient;
let uri: string;

beforeAll(async () => {
  dir = await helpdeskProject({
    "package.json": JSON.stringify({ name: "shop", private: true, type: "module", dependencies: { [THIRD_PARTY]: "^1.2.0", [TOOLS]: "^0.1.0" } }),
    "xo-foundry.yaml": "defaults:\n  landing:\n    uri: file://.xo-foundry/landing\n    connection: landing_store\n",
    "orders.yaml": ORDERS,
    "people.yaml": PEOPLE,
    ...TOOLS_FILES,
  });
  uri = pathToFileURL(dir.path("shop/orders.yaml")).href;
  client = await startClient({
    cwd: dir.path("shop"),
    textDocument: {
      completion: { completionItem: { snippetSupport: true, documentationFormat: ["markdown", "plaintext"] } },
      documentSymbol: { hierarchicalDocumentSymbolSupport: true },
    },
  });
  plain = await startClient({ cwd: dir.path("shop") });
  await client.open(uri, ORDERS, 1);
  expect((await client.diagnostics(uri, 1)).diagnostics).toEqual([]);
});
afterAll(async () => {
  await client?.stop();
  await plain?.stop();
  await dir?.remove();
});

async function complete(c: LspClient, position: Position): Promise<CompletionItem[]> {
  return itemsOf(await c.connection.sendRequest(CompletionRequest.type, { textDocument: { uri }, position }));
}

describe("references from the validated project", () => {
  it("initializes with the outline and definition providers", () => {
    expect(client.initialized.capabilities).toMatchObject({ documentSymbolProvider: { label: "xo-foundry" }, definitionProvider: true });
  });

  it("completes stream names as `checks:` keys, leaving out streams that have checks, as a list block", async () => {
    const text = ORDERS.replace("checks:\n", "checks:\n  \n");
    await client.change(uri, text, 2);
    const line = lineOf(text, "  ");
    const items = await complete(client, { line, character: 2 });
    expect(items.map((i) => i.label)).toEqual(["agents"]);
    const agents = items[0]!;
    expect(agents.detail).toBe("stream of source main, loaded into sink main");
    expect(agents.insertTextFormat).toBe(InsertTextFormat.Snippet);
    expect(agents.textEdit).toEqual({ range: { start: { line, character: 2 }, end: { line, character: 2 } }, newText: "agents:\n    - $0" });
  });

  it("completes task ids in `after:` from the task graph (template tasks, checks tasks and steps), not the step itself", async () => {
    const text = ORDERS.replace("      - audit\n", "      - audit\n      - \n");
    await client.change(uri, text, 3);
    const line = text.split("\n").lastIndexOf("      - ");
    const items = await complete(client, { line, character: 8 });
    const ids = items.map((i) => i.label);
    expect(ids).toEqual(expect.arrayContaining(["extract_tickets", "check_tickets", "load_tickets", "extract_agents", "load_agents"]));
    // Already listed, and the step itself: not offered.
    expect(ids).not.toContain("audit");
    expect(ids).not.toContain("audit_again");
    expect(items.find((i) => i.label === "check_tickets")).toMatchObject({
      detail: "task (acme.checks)",
      documentation: { kind: "markdown", value: expect.stringContaining("Data quality checks of stream tickets") },
      textEdit: { range: { start: { line, character: 8 }, end: { line, character: 8 } }, newText: "check_tickets" },
    });
  });

  it("still completes them from the last valid version while the text has an error elsewhere", async () => {
    // An unknown key at the top and a half-typed `after:` item: the text is not valid now.
    const text = ORDERS.replace("pipeline:\n  name: orders\n", "pipeline:\n  name: orders\n  retrys: 2\n").replace("      - audit\n", "      - audit\n      - lo\n");
    await client.change(uri, text, 4);
    expect((await client.diagnostics(uri, 4)).diagnostics.map((d) => d.code)).toContain("XO_CONFIG_UNKNOWN_KEY");
    const line = lineOf(text, "      - lo");
    const ids = labels(await client.connection.sendRequest(CompletionRequest.type, { textDocument: { uri }, position: { line, character: 10 } }));
    expect(ids).toEqual(expect.arrayContaining(["load_tickets", "load_agents", "extract_tickets"]));

    // A stream in `checks:` too, and one in a load step's `with: stream`.
    const checks = text.replace("checks:\n", "checks:\n  ag\n");
    await client.change(uri, checks, 5);
    expect(labels(await client.connection.sendRequest(CompletionRequest.type, { textDocument: { uri }, position: { line: lineOf(checks, "  ag"), character: 4 } }))).toEqual(["agents"]);
    const load = text.replace("    uses: acme.audit\n    after:\n      - audit\n", "    uses: load\n    with:\n      stream: \n    after:\n      - audit\n");
    await client.change(uri, load, 6);
    const at = lineOf(load, "      stream: ");
    expect(labels(await client.connection.sendRequest(CompletionRequest.type, { textDocument: { uri }, position: { line: at, character: 14 } }))).toEqual(["tickets", "agents"]);
  });

  it("completes what the text names itself in a file that has not been valid since it was opened", async () => {
    const draft = pathToFileURL(dir.path("shop/draft.yaml")).href;
    const text = ORDERS.replace("pipeline:\n  name: orders\n", "pipeline:\n  name: draft\n  retrys: 2\n").replace("checks:\n  tickets:\n", "checks:\n  \n  tickets:\n");
    await client.open(draft, text, 1);
    expect((await client.diagnostics(draft, 1)).diagnostics.map((d) => d.code)).toContain("XO_CONFIG_UNKNOWN_KEY");
    const line = lineOf(text, "  ");
    const streams = await client.connection.sendRequest(CompletionRequest.type, { textDocument: { uri: draft }, position: { line, character: 2 } });
    expect(labels(streams)).toEqual(["agents"]);
    // No task graph yet: the other steps' ids only (the item under the cursor is being rewritten).
    const after = lineOf(text, "      - audit");
    const ids = await client.connection.sendRequest(CompletionRequest.type, { textDocument: { uri: draft }, position: { line: after, character: 8 } });
    expect(labels(ids)).toEqual(["audit"]);
    const first = lineOf(text, "      - load_tickets");
    expect(labels(await client.connection.sendRequest(CompletionRequest.type, { textDocument: { uri: draft }, position: { line: first, character: 8 } }))).toEqual(["audit_again"]);
  });

  it("completes connection ids the project uses: this pipeline's, other pipelines' and xo-foundry.yaml defaults'", async () => {
    const text = ORDERS.replace("  - id: audit_again\n    uses: acme.audit\n", "  - id: audit_again\n    uses: acme.audit\n    connection: \n");
    await client.change(uri, text, 7);
    const line = lineOf(text, "    connection: ");
    const items = await complete(client, { line, character: 16 });
    expect(items.map((i) => i.label)).toEqual(["helpdesk_eu", "landing_store", "ledger", "warehouse_prod"]);
    expect(items.find((i) => i.label === "ledger")?.documentation).toEqual({ kind: "markdown", value: "Used in orders.yaml, people.yaml." });
    expect(items.find((i) => i.label === "landing_store")?.documentation).toEqual({ kind: "markdown", value: "Used in orders.yaml, xo-foundry.yaml." });
  });

  it("completes step types with their plugin and description", async () => {
    const text = ORDERS.replace("  - id: audit_again\n    uses: acme.audit\n", "  - id: audit_again\n    uses: \n");
    await client.change(uri, text, 8);
    const line = lineOf(text, "    uses: ");
    const items = await complete(client, { line, character: 10 });
    expect(items.map((i) => i.label).sort()).toEqual(["acme.audit", "acme.checks", "extract", "load"]);
    expect(items.find((i) => i.label === "acme.audit")).toMatchObject({ detail: `step from ${TOOLS}`, documentation: { kind: "markdown", value: AUDIT_DESCRIPTION } });

    const source = ORDERS.replace("  plugin: helpdesk\n", "  plugin: \n");
    await client.change(uri, source, 9);
    const s = await complete(client, { line: lineOf(source, "  plugin: "), character: 10 });
    expect(s.map((i) => [i.label, i.detail, i.documentation])).toEqual([["helpdesk", `source from ${THIRD_PARTY}`, { kind: "markdown", value: "Tickets from the Acme help desk." }]]);
  });
});

describe("keys whose value is a block", () => {
  it("inserts `key:` and the next line one indentation unit deeper, as a snippet or as plain text", async () => {
    // A document indented by 4: the unit is the document's, not 2.
    const four = "pipeline:\n    name: orders\n    start_date: 2026-01-01\nsource:\n    plugin: helpdesk\n    streams:\n        - name: tickets\n          \n";
    await client.change(uri, four, 20);
    const line = lineOf(four, "          ");
    const target = (await complete(client, { line, character: 10 })).find((i) => i.label === "target")!;
    expect(target).toMatchObject({ insertTextFormat: InsertTextFormat.Snippet, insertTextMode: 1 });
    expect(target.textEdit).toEqual({ range: { start: { line, character: 10 }, end: { line, character: 10 } }, newText: "target:\n              $0" });
    // A scalar key stays `key: `.
    expect((await complete(client, { line, character: 10 })).find((i) => i.label === "status")?.textEdit).toMatchObject({ newText: "status: " });

    await plain.open(uri, four, 1);
    const plainTarget = (await complete(plain, { line, character: 10 })).find((i) => i.label === "target")!;
    expect(plainTarget.insertTextFormat).toBe(InsertTextFormat.PlainText);
    expect(apply(four, plainTarget.textEdit as TextEdit)).toContain("        - name: tickets\n          target:\n              \n");

    // A list: its first `- ` is written too.
    const top = `${ORDERS}\n`;
    await client.change(uri, top, 21);
    const steps = (await complete(client, { line: top.split("\n").length - 1, character: 0 })).find((i) => i.label === "alerts")!;
    expect(steps.textEdit).toMatchObject({ newText: "alerts:\n  - $0" });
  });
});

describe("outline and definition", () => {
  it("gives the outline with the exact ranges of the YAML nodes", async () => {
    await client.change(uri, ORDERS, 30);
    const symbols = (await client.connection.sendRequest(DocumentSymbolRequest.type, { textDocument: { uri } })) as DocumentSymbol[];
    const outline = (list: readonly DocumentSymbol[]): unknown[] => list.map((s) => (s.children ? [s.name, s.detail ?? null, outline(s.children)] : [s.name, s.detail ?? null]));
    expect(outline(symbols)).toEqual([
      ["pipeline", "orders"],
      ["source", "helpdesk", [["tickets", null], ["agents", null]]],
      ["steps", null, [["audit", "acme.audit"], ["audit_again", "acme.audit"]]],
      ["checks", null, [["tickets", null, [["row_count", null]]]]],
    ]);
    const lines = ORDERS.split("\n");
    const source = symbols[1]!;
    expect(source.range).toEqual({ start: { line: lineOf(ORDERS, "source:"), character: 0 }, end: { line: lineOf(ORDERS, "    - name: agents"), character: 18 } });
    expect(source.selectionRange).toEqual({ start: { line: 4, character: 0 }, end: { line: 4, character: 6 } });
    const tickets = source.children![0]!;
    expect(tickets.range).toEqual({ start: { line: lineOf(ORDERS, "    - name: tickets"), character: 6 }, end: { line: lineOf(ORDERS, "      status: open"), character: 18 } });
    expect(tickets.selectionRange).toEqual({ start: { line: lineOf(ORDERS, "    - name: tickets"), character: 12 }, end: { line: lineOf(ORDERS, "    - name: tickets"), character: 19 } });
    const audit = symbols[2]!.children![0]!;
    expect(audit.range.end).toEqual({ line: lineOf(ORDERS, "      - load_tickets"), character: lines[lineOf(ORDERS, "      - load_tickets")]!.length });

    // Without hierarchical symbols: the same, flat, with each one's parent.
    await plain.change(uri, ORDERS, 2);
    const flat = (await plain.connection.sendRequest(DocumentSymbolRequest.type, { textDocument: { uri } })) as { name: string; containerName?: string }[];
    expect(flat.map((s) => [s.name, s.containerName ?? null])).toContainEqual(["agents", "source"]);
  });

  it("goes from a checked stream, a load step's stream and a task id to their declaration in the file", async () => {
    await client.change(uri, ORDERS, 40);
    const go = async (position: Position) => (await client.connection.sendRequest(DefinitionRequest.type, { textDocument: { uri }, position })) as Location[];
    const ticketsName = { start: { line: lineOf(ORDERS, "    - name: tickets"), character: 12 }, end: { line: lineOf(ORDERS, "    - name: tickets"), character: 19 } };

    expect(await go({ line: lineOf(ORDERS, "  tickets:"), character: 4 })).toEqual([{ uri, range: ticketsName }]);
    // A step's `after:` item: the step with that id.
    const auditId = lineOf(ORDERS, "  - id: audit");
    expect(await go({ line: lineOf(ORDERS, "      - audit"), character: 10 })).toEqual([{ uri, range: { start: { line: auditId, character: 8 }, end: { line: auditId, character: 13 } } }]);
    // A template's task: the stream it moves.
    expect(await go({ line: lineOf(ORDERS, "      - load_tickets"), character: 12 })).toEqual([{ uri, range: ticketsName }]);
    // Not a reference: nothing.
    expect(await go({ line: lineOf(ORDERS, "      status: open"), character: 15 })).toEqual([]);

    // From the last valid version while the text has an error elsewhere; from an extract step's `with:`.
    const broken = ORDERS.replace('  schedule: "@daily"\n', '  schedule: "@daly"\n').replace(
      "  - id: audit_again\n    uses: acme.audit\n",
      "  - id: audit_again\n    uses: extract\n    with:\n      source: main\n      stream: tickets\n",
    );
    await client.change(uri, broken, 41);
    expect((await client.diagnostics(uri, 41)).diagnostics.map((d) => d.code)).toContain("XO_CONFIG_INVALID_VALUE");
    expect(await go({ line: lineOf(broken, "      - load_tickets"), character: 12 })).toEqual([{ uri, range: ticketsName }]);
    expect(await go({ line: lineOf(broken, "      stream: tickets"), character: 16 })).toEqual([{ uri, range: ticketsName }]);
    // `main` is the `source:` shorthand's name.
    const sourceKey = lineOf(broken, "source:");
    expect(await go({ line: lineOf(broken, "      source: main"), character: 16 })).toEqual([{ uri, range: { start: { line: sourceKey, character: 0 }, end: { line: sourceKey, character: 6 } } }]);
  });
});
