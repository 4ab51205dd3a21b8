import { mkdir, symlink } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { testdir, type TestDir } from "@xo-foundry/testkit";

export const packageDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const repo = path.resolve(packageDir, "../..");
export const serverBin = path.join(packageDir, "bin/xo-foundry-language-server.js");
export const cliBin = path.join(repo, "packages/cli/bin/xo-foundry.js");

export const THIRD_PARTY = "@acme/xo-foundry-plugin-helpdesk";
export const REGION_DESCRIPTION = "Acme data center the help desk account lives in.";

/**
 * A third-party plugin as its author would publish it: plain ESM with core and zod as
 * peers. It brings a sink and a template too, so the project needs none of ours.
 */
const PLUGIN_SOURCE = `import { z } from "zod";
import { definePlugin, streamTasks } from "@xo-foundry/core";

export function helpdeskPlugin() {
  return definePlugin({
    name: ${JSON.stringify(THIRD_PARTY)},
    version: "1.2.0",
    sources: [
      {
        id: "helpdesk",
        description: "Tickets from the Acme help desk.",
        options: z.object({
          region: z.enum(["eu", "us"]).default("eu").describe(${JSON.stringify(REGION_DESCRIPTION)}),
          page_size: z.number().int().min(1).max(500).default(100).describe("Tickets per page."),
        }),
        stream: z.object({ status: z.enum(["open", "closed", "all"]).default("all").describe("Which tickets to read.") }),
        async *extract() {},
      },
    ],
    sinks: [
      {
        id: "vault",
        description: "Acme's warehouse.",
        isDefault: true,
        options: z.object({}),
        target: z.object({ table: z.string().min(1).optional().describe("Table to load into.") }),
        load: async () => ({ table: "t", rowsLoaded: 0 }),
      },
    ],
    templates: [{ id: "acme", description: "", isDefault: true, tasks: (p) => streamTasks(p.config, { groupBySource: false }) }],
  });
}
`;

/**
 * A user project outside the repo whose package.json depends on a plugin installed in its
 * own node_modules; core and zod are linked in as npm would install the plugin's peers.
 */
export async function helpdeskProject(files: Record<string, string> = {}): Promise<TestDir> {
  const dir = await testdir({
    "shop/package.json": JSON.stringify({ name: "shop", private: true, type: "module", dependencies: { [THIRD_PARTY]: "^1.2.0" } }),
    [`shop/node_modules/${THIRD_PARTY}/package.json`]: JSON.stringify({
      name: THIRD_PARTY,
      version: "1.2.0",
      type: "module",
      exports: { ".": "./index.js", "./package.json": "./package.json" },
      peerDependencies: { "@xo-foundry/core": "^0.1.0", zod: "^4.0.0" },
      "xo-foundry": { factory: "helpdeskPlugin" },
    }),
    [`shop/node_modules/${THIRD_PARTY}/index.js`]: PLUGIN_SOURCE,
    ...Object.fromEntries(Object.entries(files).map(([name, content]) => [`shop/${name}`, content])),
  });
  await mkdir(dir.path("shop/node_modules/@xo-foundry"), { recursive: true });
  await symlink(path.join(repo, "packages/core"), dir.path("shop/node_modules/@xo-foundry/core"), "dir");
  await symlink(path.join(repo, "node_modules/zod"), dir.path("shop/node_modules/zod"), "dir");
  return dir;
}

/** Files of one more installed plugin package with one source `sourceId`, to add to a project's node_modules. */
export function sourcePluginFiles(name: string, sourceId: string): Record<string, string> {
  return {
    [`node_modules/${name}/package.json`]: JSON.stringify({ name, version: "0.1.0", type: "module", exports: { ".": "./index.js" }, "xo-foundry": { factory: "plugin" } }),
    [`node_modules/${name}/index.js`]: `import { z } from "zod";
import { definePlugin } from "@xo-foundry/core";
export const plugin = () => definePlugin({ name: ${JSON.stringify(name)}, version: "0.1.0", sources: [{ id: ${JSON.stringify(sourceId)}, description: "", options: z.object({}), stream: z.object({}), async *extract() {} }] });
`,
  };
}

/** A valid pipeline of `streams` streams: 4 lines each, plus 12 lines of header. */
export function pipelineYaml(streams: number): string {
  const lines = [
    "# Tickets from every queue of the help desk.",
    "pipeline:",
    "  name: tickets",
    "  start_date: 2026-01-01",
    "  schedule: \"@daily\"",
    "  retries: 3",
    "source:",
    "  plugin: helpdesk",
    "  region: eu",
    "  page_size: 50",
    "  streams:",
  ];
  for (let i = 0; i < streams; i++) {
    const name = `queue_${String(i).padStart(3, "0")}`;
    lines.push(`    - name: ${name}`, `      status: open`, `      target:`, `        table: ${name}`);
  }
  return `${lines.join("\n")}\n`;
}
