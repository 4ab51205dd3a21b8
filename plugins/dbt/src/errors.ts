/**
 * Failures a user can cause or fix. The plugin declares this catalog as its `errors`, so
 * the core reports the codes as they are and `xo-foundry plugins` can explain them.
 */
import { PluginError } from "@xo-foundry/core";

export const DBT_ERRORS = {
  XO_DBT_PROJECT_NOT_FOUND:
    "No dbt project was found: no dbt_project.yml in `project_dir`, or, without it, none in the project folder or exactly one of its subfolders. Set `project_dir` in the step's `with:` block.",
  XO_DBT_EXECUTABLE_NOT_FOUND:
    "The dbt executable could not be started. Install dbt-core and its adapter (`pip install dbt-core dbt-duckdb`), or point `dbt` in the step at it (`.venv/bin/dbt`, or a command list such as `[uv, run, dbt]`).",
  XO_DBT_PROFILE_UNAVAILABLE:
    "No dbt profile could be generated for the pipeline's sink: the sink is not one the dbt plugin knows (duckdb, snowflake), or its connection lacks a setting the profile needs. Set `profiles_dir` to a folder with your own profiles.yml, or fix the sink's connection as the message says.",
  XO_DBT_FAILED:
    "dbt ran, and models, tests, seeds or snapshots failed. The message names each failing node with dbt's own message; run_results.json is kept with the run's artifacts in the landing zone.",
  XO_DBT_ERROR:
    "dbt stopped before running nodes (a project, profile or compilation error). The message quotes dbt's last log lines; run the same dbt command locally to see the whole output.",
  XO_DBT_MANIFEST_INVALID:
    "`render: per_model` could not read the compiled manifest.json. Run `dbt parse` (or `dbt compile`) in the dbt project and generate the DAGs again, or set `manifest` to where your manifest is.",
  XO_DBT_SELECTION_UNSUPPORTED:
    "`render: per_model` evaluates `select` and `exclude` itself, from the manifest: model names, packages and fqn paths, `tag:`, `path:`, `fqn:`, `package:`, `resource_type:`, `config.materialized:`, the `+` and `n+` graph operators, `@`, unions (spaces or a list) and intersections (commas). Rewrite the selection with those, or use `render: single`.",
  XO_DBT_SELECTION_EMPTY: "`render: per_model` found no model of the manifest matching `select` and `exclude`. Check the selection with `dbt ls --select ...`, or run `dbt parse` again if models were added since.",
  XO_DBT_CLOUD_FAILED:
    "The dbt Cloud run ended in error or was cancelled. The message names the run and its link, the failing nodes from its run_results.json, and the failed step with its last log lines; the run's artifacts are kept with the run in the landing zone.",
  XO_DBT_CLOUD_TIMEOUT: "The dbt Cloud run did not finish within `timeout_seconds`, and was cancelled. Raise `timeout_seconds`, or look at the run in dbt Cloud.",
  XO_DBT_CLOUD_REQUEST_FAILED:
    "dbt Cloud refused a request (a wrong account id, job id or token), or was unreachable or failing after the retries. The message quotes dbt Cloud's status and message; check the connection (host, login = account id, password = API token) and the job id.",
} as const satisfies Readonly<Record<`XO_DBT_${string}`, string>>;

export type DbtErrorCode = keyof typeof DBT_ERRORS;

/** dbt's output may quote a connection setting: PluginError masks every registered secret. */
export class DbtError extends PluginError<DbtErrorCode> {
  override readonly name = "DbtError";
}
