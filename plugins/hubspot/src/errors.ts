/**
 * HubSpot failures a user can cause or fix, with stable codes. The plugin declares this catalog
 * as its `errors`, so the core reports the codes as they are and `xo-foundry plugins` explains
 * them. Messages pass core's redactor (PluginError) and never quote a request's headers, where
 * the access token travels.
 */
import { PluginError } from "@xo-foundry/core";

/** Every code with what it means and the fix; the codes are the keys, so none exists without its text. */
export const HUBSPOT_ERRORS = {
  HUBSPOT_CONNECTION_INVALID:
    "The step's connection cannot be used: it holds no access token (the private app's token goes in the connection's password), or its host is not a URL. Without a host the step calls https://api.hubapi.com.",
  HUBSPOT_AUTH_FAILED:
    "HubSpot refused the access token (HTTP 401): it is wrong, was rotated, or the private app was uninstalled. Copy the current token from HubSpot (Settings > Integrations > Private Apps > your app > Auth) into the connection's password.",
  HUBSPOT_FORBIDDEN:
    "HubSpot refused the call for want of a scope (HTTP 403 MISSING_SCOPES). Add the scopes the message names (e.g. crm.objects.contacts.write and .read) to the private app, then copy its new token into the connection.",
  HUBSPOT_RATE_LIMITED:
    "HubSpot kept answering 429 (rate limit) after every retry. Lower `rate.requests_per_second`, run fewer HubSpot tasks at once (an Airflow pool), or raise `max_retries`; other apps of the same HubSpot account share the limit.",
  HUBSPOT_UNAVAILABLE:
    "HubSpot kept failing (5xx, timeouts or network errors) after every retry. Re-run the task later: upserts and archives are idempotent, so nothing is applied twice. Check the connection's host if it never works.",
  HUBSPOT_REQUEST_REFUSED:
    "HubSpot refused a request as a whole (HTTP 4xx) for the reason the message quotes, e.g. an unknown `object_type` or an `id_property` whose values are not unique. Fix the step's options accordingly.",
  HUBSPOT_PROPERTY_UNKNOWN:
    "A property the step sends does not exist on the object type in HubSpot. Create the property in HubSpot, or map the column to an existing property's internal name with `properties: { column: property }`.",
  HUBSPOT_RESPONSE_INVALID: "HubSpot answered with a body the step cannot read (not the JSON its API reference describes). Re-run; if it persists, check that the connection's host is HubSpot's API.",
  HUBSPOT_MODEL_INVALID:
    "The model the step reads does not fit the options: the `key` column or a column named in `properties` is missing, or the query returned something other than rows. The message names the column and lists the ones there are.",
  HUBSPOT_STATE_INVALID:
    "The snapshot of the last sync (an NDJSON file in the landing zone's state folder) cannot be used: it is damaged, or it was written for another `object_type` or `id_property`. The message names the file: delete it to start over (the next run then upserts every row, which is safe).",
  HUBSPOT_TOO_MANY_DELETES:
    "The sync would archive more objects than `max_deletes` allows, or every object because the model came back empty. Nothing was sent. Check the model; if the deletes are meant, raise `max_deletes`.",
  HUBSPOT_TOO_MANY_REJECTED:
    "HubSpot refused more rows than `max_rejected` allows. The rows and HubSpot's reasons are in the rejected-records file the message names; fix the data (or the property definitions in HubSpot) and re-run. Refused rows are retried by every run until HubSpot takes them.",
} as const satisfies Readonly<Record<`HUBSPOT_${string}`, string>>;

export type HubSpotErrorCode = keyof typeof HUBSPOT_ERRORS;

/** What HubSpot answered, kept on the error for callers that act on it (a 400 splits a batch). */
export interface HubSpotAnswer {
  readonly status?: number | undefined;
  /** HubSpot's `category`, e.g. VALIDATION_ERROR or MISSING_SCOPES. */
  readonly category?: string | undefined;
  /** HubSpot's reason in its own words. */
  readonly reason?: string | undefined;
  /** A 400 about the values of some inputs (not the request): a smaller batch without them would pass. */
  readonly aboutValues?: boolean | undefined;
}

/** A failure with a code from the catalog. Message and hint are redacted: they can quote HubSpot's answers. */
export class HubSpotError extends PluginError<HubSpotErrorCode> {
  override readonly name = "HubSpotError";
  readonly status: number | undefined;
  readonly category: string | undefined;
  readonly reason: string | undefined;
  readonly aboutValues: boolean;
  constructor(code: HubSpotErrorCode, message: string, hint: string, answer: HubSpotAnswer = {}, options?: { cause?: unknown }) {
    super(code, message, hint, options);
    this.status = answer.status;
    this.category = answer.category;
    this.reason = answer.reason;
    this.aboutValues = answer.aboutValues ?? false;
  }
}
