/**
 * Failures of the checks step a user can cause or fix, with stable codes. The plugin declares
 * this catalog as its `errors`, so the core reports the codes as they are and
 * `xo-foundry plugins` explains them. A check that ran and did not hold is not an error
 * thrown here: the step returns it as `failure` with XO_CHECK_FAILED, keeping its summary.
 * The warehouse's own failures (an unreachable Snowflake) keep the sink plugin's codes.
 */
import { PluginError } from "@xo-foundry/core";

/** Every code with what it means and the fix; the codes are the keys, so none exists without its text. */
export const QUALITY_ERRORS = {
  XO_CHECK_FAILED:
    "A data quality check of severity `fail` did not hold, or could not run (a column that is not there, SQL the engine refused). The message lists each one with what was found; the task's summary holds the counts and a few failing rows. Fix the data at its source and re-run the date, or fix the check; `severity: warn` reports a check without stopping the pipeline.",
  XO_CHECK_NO_FILES:
    "A `pre_load` check found no complete landed partition of its stream for this date: the extract task has not run (or did not finish) in this run. Run the check after the stream's extract (the graph does this for `checks:`), or re-run the extract of the date first.",
  XO_CHECK_FILES_UNREADABLE:
    "DuckDB could not read the stream's landed files to check them (a damaged file, or a format that does not match its extension). The message names DuckDB's error; re-run the extract of the date, or fix the source.",
  XO_CHECK_NO_TABLE:
    "A `post_load` check has no table to check: the stream's load did not run before it in this run, or the table it names does not exist in the sink's warehouse. Run the check after the load (the graph does this for `checks:`), or fix `table` (`schema.table` as the warehouse spells it) and `sink`.",
} as const satisfies Readonly<Record<`XO_CHECK_${string}`, string>>;

export type QualityErrorCode = keyof typeof QUALITY_ERRORS;

export class QualityError extends PluginError<QualityErrorCode> {
  override readonly name = "QualityError";
}
