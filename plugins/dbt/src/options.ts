/**
 * The `with:` block of the dbt Core steps (`dbt.build`, `dbt.run`, ...). Every key maps to
 * one dbt flag or to how xo-foundry finds the project, the profile and the executable.
 */
import { z } from "zod";

const selection = z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]);

export const coreOptions = z.strictObject({
  project_dir: z
    .string()
    .min(1)
    .optional()
    .describe(
      "The dbt project (the folder of dbt_project.yml), relative to the xo-foundry project. When unset: the project folder itself if it has a dbt_project.yml, else its only subfolder (or `dbt/`, `transform/`) that has one.",
    ),
  profiles_dir: z
    .string()
    .min(1)
    .optional()
    .describe("A folder with your own profiles.yml, relative to the project. When unset, a profile is generated for this run from the pipeline's sink and its connection; no secret is written to disk."),
  profile: z.string().min(1).optional().describe("The profile name; defaults to `profile:` in dbt_project.yml."),
  target: z.string().min(1).optional().describe("dbt's `--target`. A generated profile has one target, named `xo_foundry` unless this is set."),
  sink: z.string().min(1).optional().describe("The sink block whose warehouse the generated profile points at; defaults to the pipeline's only sink."),
  schema: z.string().min(1).optional().describe("The schema dbt builds models in (the generated profile's `schema`); defaults to the sink's schema."),
  select: selection.optional().describe("dbt's `--select`: node selection syntax, a string or a list (a list is a union)."),
  exclude: selection.optional().describe("dbt's `--exclude`."),
  selector: z.string().min(1).optional().describe("dbt's `--selector`: a named selector of selectors.yml."),
  vars: z
    .record(z.string(), z.unknown())
    .default({})
    .describe(
      "dbt's `--vars`. `data_interval_start`, `data_interval_end` (ISO 8601), `logical_date` (YYYY-MM-DD) and `run_id` of the run are always there; a key set here wins.",
    ),
  full_refresh: z.boolean().default(false).describe("dbt's `--full-refresh`: rebuild incremental models and seeds from scratch."),
  threads: z.number().int().min(1).max(64).optional().describe("dbt's `--threads`; defaults to the profile's."),
  fail_fast: z.boolean().default(false).describe("dbt's `--fail-fast`: stop at the first failure."),
  warn_error: z.boolean().default(false).describe("dbt's `--warn-error`: treat warnings as errors."),
  dbt: z
    .union([z.string().min(1), z.array(z.string().min(1)).min(1)])
    .default("dbt")
    .describe(
      "The dbt executable: `dbt` on PATH, a path (relative to the project) such as `.venv/bin/dbt`, or a command as a list (`[uv, run, dbt]`). One that cannot be started fails the step with XO_DBT_EXECUTABLE_NOT_FOUND.",
    ),
  env: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/), z.string()).default({}).describe("Extra environment variables for dbt (for `env_var()` in the project)."),
  render: z
    .enum(["single", "per_model"])
    .default("single")
    .describe(
      "single: one task runs the whole selection. per_model: one Airflow task per selected model (running it and its tests), wired by dbt's graph, read from the compiled manifest when the DAG is generated; `generate-dags --check` sees a changed manifest.",
    ),
  manifest: z
    .string()
    .min(1)
    .optional()
    .describe("The compiled manifest.json that `render: per_model` reads, relative to the project; defaults to target/manifest.json in the dbt project (`dbt parse` writes it)."),
});

export type CoreOptions = z.output<typeof coreOptions>;

/** The dbt commands offered as steps, each `dbt.<command>`. */
export const CORE_COMMANDS = ["build", "run", "test", "seed", "snapshot"] as const;
export type CoreCommand = (typeof CORE_COMMANDS)[number];

export function asList(value: string | readonly string[] | undefined): string[] {
  return value === undefined ? [] : typeof value === "string" ? [value] : [...value];
}
