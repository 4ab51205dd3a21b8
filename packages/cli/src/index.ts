/**
 * The `xo-foundry` command line. Expected failures (bad config, missing
 * credentials, failed steps) print diagnostics and exit 1; only a bug in
 * xo-foundry itself exits 2, and even then without a stack trace unless
 * XO_DEBUG is set.
 */
import { Command, CommanderError, Option } from "commander";
import { formatDiagnostic, isXoError, redact } from "@xo-foundry/core";
import { CLI_VERSION } from "./version.js";

export {
  renderDag,
  writeDags,
  GENERATED_MARKER,
  type DagConflict,
  type GeneratedDag,
  type WriteOptions,
  type WriteResult,
} from "./generate.js";
export { projectName } from "./ownership.js";

/**
 * Runs the command line. Each command's module is imported when that command runs, so an
 * Airflow task's `xo-foundry task` does not load what `generate-dags` or `state` need.
 */
export async function main(argv: readonly string[]): Promise<number> {
  let exitCode = 0;
  const set = (code: number) => {
    exitCode = code;
  };
  const json = new Option("--json", "print machine-readable JSON on stdout");
  const program = new Command("xo-foundry")
    .description("Declarative YAML pipelines, compiled to Apache Airflow DAGs and run locally.")
    .version(CLI_VERSION)
    .showHelpAfterError("(run with --help for usage)")
    .exitOverride();

  program
    .command("validate-config")
    .description("validate pipeline files (directories are searched for *.yaml)")
    .argument("<paths...>", "pipeline files or directories")
    .addOption(json)
    .action(async (paths: string[], o) => {
      const { validateCommand } = await import("./commands/validate.js");
      set(await validateCommand(paths, o));
    });

  const airflow = new Option("--airflow-version <version>", "target Airflow major version (overrides the config)").choices(["2", "3"]);
  program
    .command("generate-dag")
    .description("generate the Airflow DAG file of one pipeline; removes no file")
    .argument("<file>", "pipeline file")
    .requiredOption("-o, --out <dir>", "output directory")
    .option("--check", "exit 1 if the file on disk is missing or stale, write nothing")
    .addOption(airflow)
    .addOption(json)
    .action(async (file: string, o) => {
      const { generateCommand } = await import("./commands/generate.js");
      set(await generateCommand([file], { ...o, removeOrphans: false }));
    });

  program
    .command("generate-dags")
    .description(
      "generate one Airflow DAG file per pipeline found in the directories; removes the files these projects generated for pipelines that are gone",
    )
    .argument("<dirs...>", "directories (or files) with pipeline YAML")
    .requiredOption("-o, --out <dir>", "output directory")
    .option("--check", "exit 1 if any of these projects' DAG files is missing, stale or orphaned, write nothing")
    .addOption(airflow)
    .addOption(json)
    .action(async (dirs: string[], o) => {
      const { generateCommand } = await import("./commands/generate.js");
      set(await generateCommand(dirs, { ...o, removeOrphans: true }));
    });

  program
    .command("lineage")
    .description("draw the lineage of the pipelines found in the directories: sources, landing folders, tables, models, destinations")
    .argument("[dirs...]", "directories (or files) with pipeline YAML (default: the current directory)")
    .addOption(new Option("-f, --format <format>", "mermaid, html (a self-contained page) or json; default: from --output's extension, else mermaid").choices(["mermaid", "html", "json"]))
    .option("-o, --output <file>", "write to a file instead of stdout")
    .addOption(json)
    .action(async (dirs: string[], o) => {
      const { lineageCommand } = await import("./commands/lineage.js");
      set(await lineageCommand(dirs, o));
    });

  program
    .command("run")
    .description("run a pipeline locally: every task in dependency order, no Airflow needed")
    .argument("<file>", "pipeline file")
    .option("-d, --date <YYYY-MM-DD>", "logical date (default: yesterday, UTC)")
    .option("--run-id <id>", "run id (default: local__<date>)")
    .option("-c, --concurrency <n>", "tasks at once", "4")
    .option("-v, --verbose", "show step logs")
    .addOption(json)
    .action(async (file: string, o) => {
      const { runCommand } = await import("./commands/run.js");
      set(await runCommand(file, o));
    });

  program
    .command("task")
    .description("run one task of a pipeline, as an Airflow task does")
    .argument("<file>", "pipeline file, relative to the project directory")
    .argument("<task-id>", "task id, e.g. extract_orders")
    .requiredOption("--logical-date <YYYY-MM-DD>", "the run's logical date")
    .requiredOption("--run-id <id>", "the run id")
    .option("--project-dir <dir>", "project directory (default: $XO_FOUNDRY_PROJECT_DIR or the current directory)")
    .option("-v, --verbose", "show debug logs")
    .action(async (file: string, taskId: string, o) => {
      const { taskCommand } = await import("./commands/run.js");
      set(await taskCommand(file, taskId, o));
    });

  program
    .command("dbt")
    .description("dbt helpers for the project's pipelines")
    .command("sources")
    .description("write the dbt sources of the tables the pipelines load (a file xo-foundry owns), and report tables dbt does not declare and dbt sources no pipeline loads")
    .argument("[project]", "project directory (default: the current directory)")
    .option("--dbt-project <dir>", "the dbt project (default: the project folder, or its only subfolder with dbt_project.yml)")
    .option("--check", "write nothing; exit 1 when the sources file is missing or stale")
    .addOption(json)
    .action(async (dir: string | undefined, o) => {
      const { dbtSourcesCommand } = await import("./commands/dbt-sources.js");
      set(await dbtSourcesCommand(dir, o));
    });

  const state = program.command("state").description("show or change the saved state (cursors) of a pipeline's incremental streams");
  state
    .command("show")
    .description("print the saved state of every stream, or of one")
    .argument("<file>", "pipeline file")
    .argument("[stream]", "stream name")
    .addOption(json)
    .action(async (file: string, stream: string | undefined, o) => {
      const { stateCommand } = await import("./commands/state.js");
      set(await stateCommand("show", file, stream, undefined, o));
    });
  state
    .command("set")
    .description("replace a stream's saved state, e.g. to replay from an earlier cursor")
    .argument("<file>", "pipeline file")
    .argument("<stream>", "stream name")
    .argument("<json>", "the new state, a JSON object such as '{\"cursor\": \"2026-01-01T00:00:00Z\"}'")
    .addOption(json)
    .action(async (file: string, stream: string, value: string, o) => {
      const { stateCommand } = await import("./commands/state.js");
      set(await stateCommand("set", file, stream, value, o));
    });
  state
    .command("reset")
    .description("forget a stream's saved state: its next extract starts from its initial value")
    .argument("<file>", "pipeline file")
    .argument("[stream]", "stream name")
    .option("--all", "reset every stream of the pipeline")
    .addOption(json)
    .action(async (file: string, stream: string | undefined, o) => {
      const { stateCommand } = await import("./commands/state.js");
      set(await stateCommand("reset", file, stream, undefined, o));
    });

  program
    .command("plugins")
    .description("list the plugins discovered from the project's package.json")
    .option("--project <dir>", "project directory (default: current directory)")
    .addOption(json)
    .action(async (o) => {
      const { pluginsCommand } = await import("./commands/plugins.js");
      set(await pluginsCommand(o));
    });

  const plugin = program.command("plugin").description("tools for plugin authors");
  plugin
    .command("new")
    .description("write a new plugin package: a working source, sink, step or template, its testkit contract test and a README")
    .argument("<name>", "the plugin's name, e.g. acme or acme_crm (names its component, factory and error codes)")
    .addOption(new Option("--kind <kind>", "what the plugin provides").choices(["source", "sink", "step", "template"]).makeOptionMandatory())
    .option("--dir <dir>", "where to write it (default: ./xo-foundry-plugin-<name>); must be new or empty")
    .option("--package-name <name>", "the npm package name (default: xo-foundry-plugin-<name>)")
    .addOption(json)
    .action(async (name: string, o) => {
      const { pluginNewCommand } = await import("./commands/plugin-new.js");
      set(await pluginNewCommand(name, o));
    });
  plugin
    .command("docs")
    .description("write the options tables of a plugin package's README from its zod schemas, between the xo-foundry:options markers")
    .argument("[dirs...]", "plugin package directories (default: the current directory)")
    .option("--check", "write nothing; exit 1 naming each README that is stale")
    .addOption(json)
    .action(async (dirs: string[], o) => {
      const { pluginDocsCommand } = await import("./commands/plugin-docs.js");
      set(await pluginDocsCommand(dirs, o));
    });

  program
    .command("test")
    .description(
      "test a project as its CI would: validate every pipeline, compare the generated DAGs with the committed ones, import them in Airflow, run the pipelines that have fixtures",
    )
    .argument("[project]", "project directory (default: the current directory)")
    .option("--dags <dir>", "the committed DAGs folder to compare with the generated DAGs")
    .option("--airflow-venv <dir>", "a Python venv with Apache Airflow: import every generated DAG with its DagBag")
    .addOption(airflow)
    .addOption(json)
    .action(async (project: string | undefined, o) => {
      const { testCommand } = await import("./commands/test.js");
      set(await testCommand(project ?? ".", o));
    });

  program
    .command("schema")
    .description("print the JSON Schema of pipeline files (for editors), built from the installed plugins")
    .option("-o, --out <file>", "write to a file instead of stdout")
    .option("--project <dir>", "project directory (default: current directory)")
    .action(async (o) => {
      const { schemaCommand } = await import("./commands/schema.js");
      set(await schemaCommand(o));
    });

  program
    .command("ui")
    .description("a local web page to write, check, preview, generate and run the project's pipelines (listens on 127.0.0.1 only)")
    .argument("[dir]", "the project directory (default: the current directory)")
    .option("--port <port>", "port to listen on (default: a free one)")
    .option("--dags <dir>", "where Save & generate writes DAG files (default: <project>/dags)")
    .action(async (dir: string | undefined, o) => {
      const { uiCommand } = await import("./commands/ui.js");
      set(await uiCommand(dir, o));
    });

  try {
    await program.parseAsync([...argv]);
    return exitCode;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 1;
    if (isXoError(e)) {
      for (const d of e.diagnostics) process.stderr.write(`${redact(formatDiagnostic(d))}\n`);
      return 1;
    }
    const message = redact(e instanceof Error ? e.message : String(e));
    process.stderr.write(`internal error: ${message}\nThis is a bug in xo-foundry; please report it with the command you ran.\n`);
    if (process.env.XO_DEBUG && e instanceof Error && e.stack) process.stderr.write(`${redact(e.stack)}\n`);
    return 2;
  }
}
