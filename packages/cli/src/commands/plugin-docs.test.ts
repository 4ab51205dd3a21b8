import { afterEach, describe, expect, it } from "vitest";
import { readFile } from "node:fs/promises";
import { z } from "zod";
import { definePlugin } from "@xo-foundry/core";
import { testdir, type TestDir } from "@xo-foundry/testkit";
import { captureOutput } from "../__fixtures__/output.js";
import { DOCS_END, DOCS_START, pluginDocs, pluginDocsCommand, replaceSection } from "./plugin-docs.js";

let dir: TestDir;
const output = captureOutput();
afterEach(() => dir?.remove());

const widgets = definePlugin({
  name: "@acme/plugin-widgets",
  version: "1.0.0",
  sinks: [
    {
      id: "widgets",
      description: "Loads widgets",
      connection: "required",
      options: z.object({
        database: z.string().default("w.db").describe("Where the <widgets> go | pipes stay in the cell."),
        threads: z.number().int().min(1).optional().describe("Worker threads."),
        tags: z.record(z.string(), z.string()).default({}).describe("Labels."),
      }),
      target: z.strictObject({
        table: z.string().describe("Table name."),
        mode: z.enum(["append", "replace"]).optional().describe("How rows combine."),
        keys: z.array(z.string()).optional().describe("Row identity."),
      }),
      load: async () => ({ table: "t", rowsLoaded: 0 }),
    },
  ],
  sources: [
    {
      id: "zeta",
      description: "Reads zeta.",
      options: z.object({}),
      stream: z.object({
        path: z.string().describe("Path to read."),
        auth: z
          .discriminatedUnion("type", [
            z.strictObject({ type: z.literal("none") }).describe("Nothing."),
            z.strictObject({ type: z.literal("key"), header: z.string().default("X-Key").describe("Header of the key.") }).describe("A key."),
          ])
          .default({ type: "none" })
          .describe("How to authenticate."),
        retry: z.strictObject({ times: z.number().int().min(0).max(9).default(3).describe("How often.") }).optional().describe("Retries."),
      }),
      async *extract() {},
    },
    { id: "alpha", description: "Reads alpha.", options: z.object({}), stream: z.object({}), async *extract() {} },
  ],
  templates: [{ id: "flat", description: "One task per stream.", isDefault: true, tasks: () => [] }],
});

describe("pluginDocs", () => {
  it("renders every component's options from its zod schema, the same every time", () => {
    const text = pluginDocs(widgets);
    expect(pluginDocs(widgets)).toBe(text);
    // Components in a fixed order (sources, sinks, steps, landings, templates), each kind by id.
    const headings = [...text.matchAll(/^### (.*)$/gm)].map((m) => m[1]);
    expect(headings).toEqual(["Source `alpha`", "Source `zeta`", "Sink `widgets`", "Template `flat`"]);
    expect(text).toContain("| `database` | string | default `w.db` | Where the &lt;widgets> go \\| pipes stay in the cell. |");
    expect(text).toContain("| `threads` | integer (min 1) | optional | Worker threads. |");
    expect(text).toContain("| `tags` | map of string | default `{}` | Labels. |");
    expect(text).toContain("| `table` | string | required | Table name. |");
    expect(text).toContain("| `mode` | `append` \\| `replace` | optional | How rows combine. |");
    expect(text).toContain("| `keys` | string[] | optional | Row identity. |");
    // A tagged union: the key, then each variant and its own keys.
    expect(text).toContain('| `auth` | object | default `{"type":"none"}` | How to authenticate. |');
    expect(text).toContain("| `auth` (type: `key`) | object |  | A key. |");
    expect(text).toContain("| `auth.header` (type: `key`) | string | default `X-Key` | Header of the key. |");
    // A nested object.
    expect(text).toContain("| `retry.times` | integer (min 0, max 9) | default `3` | How often. |");
    expect(text).toContain("Loads widgets. Needs a `connection`.");
    expect(text).toContain("`template: flat` (the default: pipelines that name no template get it).");
    expect(text).toMatch(/Source block \(`plugin: alpha`\)[^\n]*\n\nNo options\./);
  });
});

describe("replaceSection", () => {
  const readme = `# Widgets\n\nProse before.\n\n${DOCS_START}\nold table\n${DOCS_END}\n\nProse after.\n`;

  it("replaces only the text between the markers", () => {
    expect(replaceSection(readme, "new table")).toBe(`# Widgets\n\nProse before.\n\n${DOCS_START}\nnew table\n${DOCS_END}\n\nProse after.\n`);
    const once = replaceSection(readme, "new table");
    expect(replaceSection(once, "new table")).toBe(once);
  });

  it("refuses a README without markers, or with markers out of order, naming the file and the fix", () => {
    expect(() => replaceSection("# Widgets\n", "x", "plugins/w/README.md")).toThrow(/plugins\/w\/README\.md has no generated-options section; nothing was written/);
    expect(() => replaceSection(`${DOCS_END}\n${DOCS_START}\n`, "x")).toThrow(/end marker before the start marker/);
    expect(() => replaceSection(`${DOCS_START}\n${DOCS_START}\n${DOCS_END}\n`, "x")).toThrow(/each marker line once/);
  });
});

/**
 * A built plugin package as `plugin docs` finds it: package.json names the factory,
 * `main` the entry. Its schemas are stand-ins that give their JSON Schema as zod does.
 */
function pluginPackage(readme: string) {
  return {
    "package.json": JSON.stringify({ name: "@acme/plugin-gadgets", version: "1.0.0", main: "index.mjs", "xo-foundry": { factory: "gadgets" } }),
    "index.mjs": `const schema = (properties, required = []) => ({ toJSONSchema: () => ({ type: "object", properties, required }) });
export function gadgets() {
  return {
    kind: "xo-foundry/plugin", apiVersion: 2, name: "@acme/plugin-gadgets", version: "1.0.0",
    steps: [{ id: "gadgets.make", description: "Makes gadgets.", options: schema({ count: { type: "integer", description: "How many." } }, ["count"]), run: async () => ({}) }],
  };
}
`,
    "README.md": readme,
  };
}

describe("xo-foundry plugin docs", () => {
  it("writes the section, then --check passes; a stale section fails --check naming the README", async () => {
    dir = await testdir(pluginPackage(`# Gadgets\n\n## Options\n\n${DOCS_START}\n${DOCS_END}\n\n## Compatibility\n`));
    expect(await pluginDocsCommand([dir.dir], { check: true })).toBe(1);
    expect(output.out()).toMatch(/~ \S*README\.md is stale: run `xo-foundry plugin docs`/);
    expect(await readFile(dir.path("README.md"), "utf8")).toBe(`# Gadgets\n\n## Options\n\n${DOCS_START}\n${DOCS_END}\n\n## Compatibility\n`);

    expect(await pluginDocsCommand([dir.dir], {})).toBe(0);
    const written = await readFile(dir.path("README.md"), "utf8");
    expect(written.startsWith(`# Gadgets\n\n## Options\n\n${DOCS_START}\n`)).toBe(true);
    expect(written.endsWith(`\n${DOCS_END}\n\n## Compatibility\n`)).toBe(true);
    expect(written).toContain("### Step `gadgets.make`");
    expect(written).toContain("| `count` | integer | required | How many. |");

    output.clear("out");
    expect(await pluginDocsCommand([dir.dir], { check: true })).toBe(0);
    expect(output.out()).toMatch(/✔ \S*README\.md up to date/);
  });

  it("refuses a README without markers and leaves it as it was", async () => {
    dir = await testdir(pluginPackage("# Gadgets\n\nHand-written tables.\n"));
    expect(await pluginDocsCommand([dir.dir], {})).toBe(1);
    expect(output.err()).toMatch(/README\.md error XO_CONFIG_INVALID_VALUE\n {2}\S*README\.md has no generated-options section; nothing was written/);
    expect(output.err()).toContain(`hint: expected the line ${DOCS_START} and, below it, the line ${DOCS_END}`);
    expect(output.err()).not.toMatch(/^\s+at /m);
    expect(await readFile(dir.path("README.md"), "utf8")).toBe("# Gadgets\n\nHand-written tables.\n");
  });

  it("refuses a package that names no plugin factory", async () => {
    dir = await testdir({ "package.json": '{"name": "not-a-plugin"}', "README.md": `${DOCS_START}\n${DOCS_END}\n` });
    expect(await pluginDocsCommand([dir.dir], { json: true })).toBe(1);
    const report = JSON.parse(output.out()) as { ok: boolean; readmes: { diagnostics: { path: string; message: string }[] }[] };
    expect(report.ok).toBe(false);
    expect(report.readmes[0]!.diagnostics[0]).toMatchObject({ path: "xo-foundry.factory", message: expect.stringContaining("names no plugin factory") });
  });
});
