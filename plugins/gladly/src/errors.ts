/**
 * Failures a user can cause or fix, with stable codes. The plugin declares this catalog as its
 * `errors`, so the core reports these codes as they are and `xo-foundry plugins` explains them.
 */
import { PluginError } from "@xo-foundry/core";

/** Every code with what it means and how to fix it. The codes are the keys, so a code cannot exist without its description. */
export const GLADLY_ERRORS = {
  XO_GLADLY_REPORT_CAPPED:
    "A Gladly report reached `row_cap`, so Gladly truncated it, and it cannot be split further: a single day is the smallest window the Reports API accepts for most metric sets (only AgentSummaryReport and ContactExportReportV3 take time ranges, which are split down to one hour). Split the stream into several with `filters` (teams, inboxes or channel, where the metric set accepts them), or raise `row_cap` if Gladly confirms a higher limit for your account. With `split_on_cap: false`, any capped report fails with this code.",
  XO_GLADLY_REQUEST_REJECTED:
    "Gladly refused a request (HTTP 400) and said why: the message lists each of Gladly's `attr: detail (code)`. Fix the option it names: `metricSet` is the stream's `metric_set`, `filters.*` its `filters`, `timezone` the pipeline's `timezone`.",
} as const satisfies Readonly<Record<`XO_GLADLY_${string}`, string>>;

export type GladlyErrorCode = keyof typeof GLADLY_ERRORS;

export class GladlySourceError extends PluginError<GladlyErrorCode> {
  override readonly name = "GladlySourceError";
}
