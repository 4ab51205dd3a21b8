/**
 * The files of a new plugin package (`xo-foundry plugin new`): a small component of the
 * chosen kind that works as written, its contract test from the testkit, and a README
 * whose options tables `xo-foundry plugin docs` fills in. Every file is a pure function
 * of the inputs, so a scaffold is the same on every machine.
 */

export const PLUGIN_KINDS = ["source", "sink", "step", "template"] as const;
export type PluginKind = (typeof PLUGIN_KINDS)[number];

/** `acme`, `acme_crm`: what component ids, error codes and the factory are made from. */
export const PLUGIN_NAME = /^[a-z][a-z0-9_]{0,39}$/;

export interface ScaffoldInput {
  /** Matches PLUGIN_NAME. */
  readonly name: string;
  readonly kind: PluginKind;
  /** The npm package name. */
  readonly packageName: string;
  /** The version of @xo-foundry/core (and testkit) the package is built against. */
  readonly coreVersion: string;
}

/** Relative path -> file content. */
export type ScaffoldFiles = Readonly<Record<string, string>>;

export function scaffoldFiles(input: ScaffoldInput): ScaffoldFiles {
  const names = namesOf(input.name);
  const component = COMPONENTS[input.kind](names);
  return {
    "package.json": `${JSON.stringify(packageJson(input, names), null, 2)}\n`,
    "tsconfig.json": TSCONFIG,
    "tsconfig.build.json": TSCONFIG_BUILD,
    ".gitignore": "node_modules/\ndist/\n",
    "README.md": readme(input, component.summary),
    "src/index.ts": indexTs(input, names, component),
    [`src/${input.kind}.ts`]: component.code,
    "src/contract.test.ts": component.test,
  };
}

interface Names {
  readonly id: string;
  /** The factory export: `acmeCrm`. */
  readonly factory: string;
  /** The component constant: `acmeCrmSource`. */
  readonly constant: (suffix: string) => string;
  /** Error code prefix: `ACME_CRM`. */
  readonly code: string;
}

function namesOf(name: string): Names {
  const factory = name.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
  return {
    id: name,
    factory,
    constant: (suffix) => `${factory}${suffix}`,
    code: name.toUpperCase(),
  };
}

interface Component {
  /** One line for the README. */
  readonly summary: string;
  /** The plugin field the component goes in and its error codes. */
  readonly field: "sources" | "sinks" | "steps" | "templates";
  readonly constant: string;
  readonly errors: Readonly<Record<string, string>>;
  readonly code: string;
  readonly test: string;
}

function packageJson(input: ScaffoldInput, names: Names): object {
  const core = `^${input.coreVersion}`;
  return {
    name: input.packageName,
    version: "0.1.0",
    description: `An xo-foundry ${input.kind} plugin.`,
    type: "module",
    exports: { ".": { types: "./dist/index.d.ts", default: "./dist/index.js" }, "./package.json": "./package.json" },
    files: ["dist"],
    engines: { node: ">=20.11" },
    scripts: { build: "tsc -p tsconfig.build.json", typecheck: "tsc -p tsconfig.json", test: "vitest run", docs: "xo-foundry plugin docs" },
    peerDependencies: { "@xo-foundry/core": core, zod: "^4.0.0" },
    devDependencies: {
      "@types/node": "^20.19.0",
      "@xo-foundry/core": core,
      "@xo-foundry/testkit": core,
      typescript: "^5.9.0",
      vitest: "^4.0.0",
      zod: "^4.0.0",
    },
    "xo-foundry": { factory: names.factory },
    keywords: ["xo-foundry", "xo-foundry-plugin", `xo-foundry-${input.kind}`],
  };
}

/** Type-checks everything, tests included; emits nothing. */
const TSCONFIG = `${JSON.stringify(
  {
    compilerOptions: {
      target: "ES2022",
      module: "NodeNext",
      moduleResolution: "NodeNext",
      strict: true,
      skipLibCheck: true,
      noEmit: true,
    },
    include: ["src"],
  },
  null,
  2,
)}\n`;

/** What `npm run build` compiles to dist/: the sources without their tests. */
const TSCONFIG_BUILD = `${JSON.stringify(
  {
    extends: "./tsconfig.json",
    compilerOptions: { noEmit: false, declaration: true, outDir: "dist", rootDir: "src" },
    exclude: ["src/**/*.test.ts"],
  },
  null,
  2,
)}\n`;

function indexTs(input: ScaffoldInput, names: Names, component: Component): string {
  const errors = Object.entries(component.errors)
    .map(([code, text]) => `    ${code}: ${JSON.stringify(text)},`)
    .join("\n");
  return `import { createRequire } from "node:module";
import { definePlugin, type XoPlugin } from "@xo-foundry/core";
import { ${component.constant} } from "./${input.kind}.js";

export { ${component.constant} };

const { version } = createRequire(import.meta.url)("../package.json") as { version: string };

/** The factory named by the \`xo-foundry\` field of package.json. */
export function ${names.factory}(): XoPlugin {
  return definePlugin({
    name: ${JSON.stringify(input.packageName)},
    version,
    ${component.field}: [${component.constant}],${errors ? `\n    // What each code means and how to fix it; \`xo-foundry plugins\` lists them.\n    errors: {\n${errors}\n    },` : ""}
  });
}
`;
}

function readme(input: ScaffoldInput, summary: string): string {
  return `# ${input.packageName}

${summary}

## Install

\`\`\`sh
npm install ${input.packageName}
\`\`\`

Listing the package in your project's \`package.json\` dependencies is all xo-foundry needs to
find it; \`xo-foundry plugins\` shows what it provides.

## Options

<!-- xo-foundry:options:start -->
<!-- xo-foundry:options:end -->

## Development

\`\`\`sh
npm run build          # compile to dist/
npm run typecheck      # the sources and tests, with strict TypeScript
npm test               # the testkit's contract suite for this ${input.kind}
npm run docs           # rewrite the options tables above from the zod schemas
\`\`\`
`;
}

const COMPONENTS: Readonly<Record<PluginKind, (names: Names) => Component>> = {
  source: (n) => ({
    summary: `An xo-foundry source that reads JSON records from an HTTP API paged with a cursor.`,
    field: "sources",
    constant: n.constant("Source"),
    errors: {
      [`${n.code}_NO_HOST`]: "the connection has no host; set it to the API's base URL, e.g. https://api.example.com",
      [`${n.code}_HTTP_ERROR`]: "the API refused a request; check the connection's host and token",
      [`${n.code}_BAD_PAGE`]: "a page was not a JSON object with an `items` list; check `path`",
    },
    code: `/**
 * The \`${n.id}\` source: \`GET <host><path>?limit=<page_size>&cursor=<next>\` answers
 * \`{ "items": [...], "next": "<cursor>" }\`, and an empty or missing \`next\` ends the stream.
 * Replace the request and the page shape with your API's.
 */
import type { SourceDefinition } from "@xo-foundry/core";
import { z } from "zod";

export const sourceOptions = z.object({
  page_size: z.number().int().min(1).max(1000).default(100).describe("Records per request."),
});

export const streamOptions = z.object({
  path: z.string().startsWith("/").describe("The collection's path under the connection's host, e.g. \`/v1/orders\`."),
});

type SourceOptions = z.output<typeof sourceOptions>;
type StreamOptions = z.output<typeof streamOptions>;

function fail(code: string, message: string, hint: string): Error {
  return Object.assign(new Error(message), { code, hint });
}

export const ${n.constant("Source")}: SourceDefinition<SourceOptions, StreamOptions> = {
  id: ${JSON.stringify(n.id)},
  description: "JSON records from an HTTP API paged with a cursor.",
  options: sourceOptions,
  stream: streamOptions,
  connection: "required",
  async *extract(ctx) {
    const host = ctx.connection?.host;
    if (!host) throw fail("${n.code}_NO_HOST", \`connection \${ctx.connection?.id ?? "(none)"} has no host\`, "set the connection's host to the API's base URL");
    let cursor: string | undefined;
    do {
      const url = new URL(host.replace(/\\/+$/, "") + ctx.streamOptions.path);
      url.searchParams.set("limit", String(ctx.options.page_size));
      if (cursor !== undefined) url.searchParams.set("cursor", cursor);
      const token = ctx.connection?.password;
      // The signal ends the request when the task is killed or times out.
      const response = await fetch(url, {
        headers: { accept: "application/json", ...(token ? { authorization: \`Bearer \${token}\` } : {}) },
        signal: ctx.signal,
      });
      if (!response.ok) {
        throw fail("${n.code}_HTTP_ERROR", \`GET \${url.pathname} answered \${response.status}\`, "check the connection's host and token");
      }
      const page = (await response.json()) as { items?: unknown; next?: unknown };
      if (!Array.isArray(page.items)) throw fail("${n.code}_BAD_PAGE", \`GET \${url.pathname} did not answer { items: [...] }\`, "check the stream's \`path\`");
      yield { type: "records", records: page.items as Record<string, unknown>[] };
      cursor = typeof page.next === "string" && page.next !== "" ? page.next : undefined;
    } while (cursor !== undefined);
  },
};
`,
    test: `/**
 * The source against the testkit's source contract, reading from a scripted HTTP server
 * on 127.0.0.1 that pages the records the suite gives it.
 */
import type { JsonObject } from "@xo-foundry/core";
import { describeSource, useScriptedServer, type RecordedRequest } from "@xo-foundry/testkit";
import { ${n.factory} } from "./index.js";

const server = useScriptedServer();
const PATH = "/v1/items";

function scenario() {
  return {
    options: { page_size: 50 },
    stream: { path: PATH },
    connection: { id: "test_api", host: server.url, password: "test-token", extra: {} },
  };
}

/** Pages of \`limit\` records; the cursor is the offset of the next page. */
function pages(records: readonly JsonObject[]) {
  return (request: RecordedRequest) => {
    const limit = Number(request.query.get("limit"));
    const offset = Number(request.query.get("cursor") ?? 0);
    const next = offset + limit < records.length ? String(offset + limit) : "";
    return { body: { items: records.slice(offset, offset + limit), next } };
  };
}

describeSource({
  plugin: ${n.factory}(),
  examples: [{ options: {}, stream: { path: "/v1/orders" } }, { options: { page_size: 500 }, stream: { path: "/v1/customers" } }],
  serve(records) {
    server.reset();
    server.route({ path: PATH, respond: pages(records) });
    return scenario();
  },
  stall() {
    server.reset();
    server.route({ path: PATH, respond: { stall: true } });
    return scenario();
  },
  refuse() {
    server.reset();
    server.route({ path: PATH, respond: { status: 401, body: { error: "unauthorized" } } });
    return scenario();
  },
});
`,
  }),

  sink: (n) => ({
    summary: `An xo-foundry sink that keeps each table as an NDJSON file in a folder: every load replaces the table with the rows it brings.`,
    field: "sinks",
    constant: n.constant("Sink"),
    errors: {
      [`${n.code}_UNSUPPORTED_FORMAT`]: "this sink loads NDJSON files only; land the stream as NDJSON",
      [`${n.code}_CORRUPT_FILE`]: "a landed file holds a line that is not a JSON object; the table was left as it was",
    },
    code: `/**
 * The \`${n.id}\` sink: each table is \`<directory>/<table>.ndjson\`. A load writes the
 * manifest's rows to a temporary file and renames it over the table, so a failed load
 * leaves the table as it was and loading the same files again gives the same table.
 * Replace the writing with your warehouse's bulk load.
 */
import { once } from "node:events";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, rename, rm } from "node:fs/promises";
import path from "node:path";
import { createInterface } from "node:readline";
import { finished } from "node:stream/promises";
import type { SinkDefinition } from "@xo-foundry/core";
import { z } from "zod";

export const sinkOptions = z.object({
  directory: z.string().min(1).default("tables").describe("Folder of the table files, relative to the project directory."),
});

export const targetOptions = z.strictObject({
  table: z
    .string()
    .regex(/^[a-z_][a-z0-9_]*$/, "lower-case letters, digits and _")
    .optional()
    .describe("Table name; defaults to the stream name."),
});

type SinkOptions = z.output<typeof sinkOptions>;
type TargetOptions = z.output<typeof targetOptions>;

function fail(code: string, message: string, hint: string): Error {
  return Object.assign(new Error(message), { code, hint });
}

export const ${n.constant("Sink")}: SinkDefinition<SinkOptions, TargetOptions> = {
  id: ${JSON.stringify(n.id)},
  description: "Tables as NDJSON files in a folder; each load replaces the table.",
  options: sinkOptions,
  target: targetOptions,
  targetKey: ({ stream, target }) => target.table ?? stream,
  location: ({ options, projectDir }) => path.resolve(projectDir, options.directory),
  async load(ctx) {
    const table = ctx.target.table ?? ctx.stream.name;
    const directory = path.resolve(ctx.projectDir, ctx.options.directory);
    await mkdir(directory, { recursive: true });
    const file = path.join(directory, \`\${table}.ndjson\`);
    const temporary = \`\${file}.\${process.pid}.tmp\`;
    const out = createWriteStream(temporary);
    let rows = 0;
    try {
      for (const landed of ctx.manifest.files) {
        if (landed.format !== "ndjson") {
          throw fail("${n.code}_UNSUPPORTED_FORMAT", \`\${landed.uri} is \${landed.format}\`, "land this stream as NDJSON");
        }
        const lines = createInterface({ input: createReadStream(await ctx.localPath(landed)), crlfDelay: Infinity });
        let number = 0;
        for await (const line of lines) {
          number++;
          if (line.trim() === "") continue;
          if (!isJsonObject(line)) {
            throw fail("${n.code}_CORRUPT_FILE", \`\${landed.uri} line \${number} is not a JSON object\`, "re-run the extract; the table was left as it was");
          }
          if (!out.write(\`\${line}\\n\`)) await once(out, "drain");
          rows++;
        }
      }
      out.end();
      await finished(out);
      await rename(temporary, file);
    } catch (error) {
      out.destroy();
      await rm(temporary, { force: true });
      throw error;
    }
    ctx.log.info(\`loaded \${rows} rows into \${table}\`);
    return { table, rowsLoaded: rows, rowsInTable: rows };
  },
};

function isJsonObject(line: string): boolean {
  try {
    const value: unknown = JSON.parse(line);
    return typeof value === "object" && value !== null && !Array.isArray(value);
  } catch {
    return false;
  }
}
`,
    test: `/**
 * The sink against the testkit's sink contract, each check in a fresh folder.
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import type { JsonObject } from "@xo-foundry/core";
import { describeSink, testdir } from "@xo-foundry/testkit";
import { ${n.factory} } from "./index.js";

describeSink({
  plugin: ${n.factory}(),
  examples: [
    { options: {}, target: {} },
    { options: { directory: "warehouse" }, target: { table: "orders" } },
  ],
  async place() {
    const dir = await testdir();
    return { projectDir: dir.dir, options: { directory: "tables" }, cleanup: () => dir.remove() };
  },
  async readRows(place, table) {
    const text = await readFile(path.join(place.projectDir, "tables", \`\${table}.ndjson\`), "utf8");
    return text
      .split("\\n")
      .filter((line) => line !== "")
      .map((line) => JSON.parse(line) as JsonObject);
  },
});
`,
  }),

  step: (n) => ({
    summary: `An xo-foundry step type, \`${n.id}.count_rows\`, that counts a table's rows on any warehouse that offers the warehouse service, and can skip what follows when it is empty.`,
    field: "steps",
    constant: n.constant("CountRows"),
    errors: {},
    code: `/**
 * The \`${n.id}.count_rows\` step: counts a table's rows through the \`warehouse\` service of
 * a sink, so it works on DuckDB, Snowflake or any warehouse plugin. Its summary is what
 * downstream \`when:\` conditions read. Replace the query with your step's work.
 */
import type { StepType } from "@xo-foundry/core";
import { z } from "zod";

export const countRowsOptions = z.strictObject({
  table: z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_]*(\\.[A-Za-z_][A-Za-z0-9_]*)?$/, "a table name such as orders or main.orders")
    .describe("The table to count, optionally with its schema: \`main.orders\`."),
  sink: z.string().min(1).optional().describe("The sink block whose warehouse holds the table; defaults to the pipeline's only sink."),
  skip_when_empty: z.boolean().default(false).describe("End the task as skipped when the table has no rows, so the tasks after it follow their trigger rules."),
});

type CountRowsOptions = z.output<typeof countRowsOptions>;

export const ${n.constant("CountRows")}: StepType<CountRowsOptions> = {
  id: ${JSON.stringify(`${n.id}.count_rows`)},
  description: "Count a table's rows on the sink's warehouse.",
  options: countRowsOptions,
  async run(ctx) {
    ctx.signal.throwIfAborted();
    const warehouse = ctx.services.warehouse(ctx.options.sink);
    // The table name matched the pattern above, so it is safe to put in the statement.
    const [row] = await warehouse.query(\`select count(*) as n from \${ctx.options.table}\`);
    const rows = Number(row?.n ?? 0);
    ctx.log.info(\`\${ctx.options.table} has \${rows} rows\`);
    const summary = { table: ctx.options.table, rows };
    return ctx.options.skip_when_empty && rows === 0 ? { summary, skip: \`\${ctx.options.table} is empty\` } : { summary };
  },
};
`,
    test: `/**
 * The step against the testkit's step contract, on the testkit's scripted warehouse.
 */
import { describeStep, scriptedWarehouse } from "@xo-foundry/testkit";
import { ${n.factory} } from "./index.js";

describeStep({
  plugin: ${n.factory}(),
  examples: [{ table: "orders" }, { table: "main.orders", sink: "main", skip_when_empty: true }],
  environment: (signal) => ({ warehouses: { main: scriptedWarehouse({ signal, rows: [{ n: 3 }] }) } }),
});
`,
  }),

  template: (n) => ({
    summary: `An xo-foundry template, \`${n.id}\`, that turns each stream into an extract task and a load task that runs after it.`,
    field: "templates",
    constant: n.constant("Template"),
    errors: {},
    code: `/**
 * The \`${n.id}\` template: for every stream, \`extract_<stream>\` and then
 * \`load_<stream>\`. Templates only describe the task graph; the core renders it to a
 * static Airflow DAG. Change the graph to your pipeline shape (task groups, extra steps).
 */
import { streamTasks, type TemplateDefinition } from "@xo-foundry/core";

export const ${n.constant("Template")}: TemplateDefinition = {
  id: ${JSON.stringify(n.id)},
  description: "Each stream as an extract task followed by its load task.",
  tasks: (pipeline) => streamTasks(pipeline.config, { groupBySource: false }),
};
`,
    test: `/**
 * The template against the testkit's template contract: the same bytes every time,
 * Python that parses, hostile config text kept out of code and Jinja.
 */
import { describeTemplate } from "@xo-foundry/testkit";
import { ${n.factory} } from "./index.js";

describeTemplate({ plugin: ${n.factory}() });
`,
  }),
};
