/**
 * Failures of the `api.send` step a user can cause or fix, with stable codes. The plugin
 * declares this catalog (with the cursor codes of incremental.ts) as its `errors`, so the
 * core reports the codes as they are and `xo-foundry plugins` explains them. Messages pass
 * core's redactor (PluginError): a token an API echoes back never reaches a log.
 */
import { PluginError } from "@xo-foundry/core";

/** Every code with what it means and the fix; the codes are the keys, so none exists without its text. */
export const SEND_ERRORS = {
  API_SEND_FORMAT:
    "An upstream file is not NDJSON or a JSON array (CSV, Parquet, or a name without a known extension). `api.send` sends records, and only JSON keeps their types: export with `format: ndjson`, or point `task`/`from` at JSON files.",
  API_SEND_BAD_RECORD: "A line of an NDJSON file, or an item of a JSON array file, is not a JSON object. The message names the file and the line or item; fix the export that wrote it.",
  API_SEND_CONNECTION:
    "The step cannot build its requests: no `url` and no base URL in the connection for `path`, or the connection lacks what `auth` needs (a token, a login, a refresh token). The message names the field.",
  API_SEND_REFUSED:
    "The API refused a batch in a way no retry or rejected-records file can settle: 401/403 (credentials or rights), 404 (wrong `path`), 409, 413 (batch too large: lower `batch_size`), a redirect, or another 4xx without a list of refused records. Batches before it are delivered and in the ledger; fix the cause and re-run.",
  API_SEND_FAILED:
    "The API kept failing (429, 5xx, timeouts or network errors) after `max_retries`, or could not be reached. Batches before it are delivered and in the ledger; re-run later, the rest goes out with the same idempotency keys.",
  API_SEND_UNCERTAIN:
    "A batch sent without an idempotency key failed in a way that leaves it unknown whether the API applied it (a 5xx other than 503, a timeout, a connection lost after the request went out). It was not retried, since a retry could apply it twice. Check on the API's side whether the batch named in the message arrived before you re-run (a re-run sends it again), or turn on `idempotency_key` if the API supports it.",
  API_SEND_REJECTED_UNREADABLE:
    "The response carries a list at `rejected.path`, but an item has no usable record index at `rejected.index` (missing, not an integer, or outside the batch). Check `rejected` against the API's documentation of its error responses; indexes count from 0.",
  API_SEND_TOO_MANY_REJECTED:
    "The API refused more records than `max_rejected` allows (0 by default). Every other record was delivered and the refused ones are in the rejected-records file the message names, with the reason the API gave; fix them at the source, or raise `max_rejected` (null for no limit) if refusals are expected.",
} as const satisfies Readonly<Record<`API_SEND_${string}`, string>>;

export type SendErrorCode = keyof typeof SEND_ERRORS;

export class SendError extends PluginError<SendErrorCode> {
  override readonly name = "SendError";
}
