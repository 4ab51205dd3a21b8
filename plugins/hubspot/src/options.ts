/**
 * The `with:` block of a `hubspot.sync` step. The core parses it with this schema (strictly,
 * defaults applied) before the step runs, and the editor's JSON Schema is generated from it.
 */
import { z } from "zod";

/** HubSpot takes at most 100 inputs per batch request. */
export const MAX_BATCH_SIZE = 100;

/**
 * Private apps get 100 requests per 10 seconds on Free and Starter accounts, shared with every
 * other app of the account; half of it leaves room for them.
 */
export const DEFAULT_REQUESTS_PER_SECOND = 5;

/** A table name as the warehouse reads it unquoted: `contacts`, `marts.contacts`, `db.marts.contacts`. */
const TABLE_NAME = /^[A-Za-z_][A-Za-z0-9_$]*(\.[A-Za-z_][A-Za-z0-9_$]*){0,2}$/;

export const syncOptions = z
  .object({
    query: z
      .string()
      .trim()
      .min(1)
      .optional()
      .describe("SQL that returns the model, one row per CRM object, e.g. `select email, first_name as firstname from contacts`. Give `query` or `table`."),
    table: z
      .string()
      .regex(TABLE_NAME, { message: "a table name such as `contacts` or `marts.contacts` (letters, digits, `_`, `$`)" })
      .optional()
      .describe("A table (or view) that is the model, read whole: `contacts` or `marts.contacts`. Give `query` or `table`."),
    sink: z.string().min(1).optional().describe("The sink block whose warehouse holds the model; by default the pipeline's only sink."),
    object_type: z
      .string()
      .regex(/^[A-Za-z0-9_-]+$/, { message: "an object type such as `contacts`, `companies`, `deals`, or a custom object's type id such as `2-1234567`" })
      .describe("The HubSpot CRM object type to keep in sync: `contacts`, `companies`, `deals`, `tickets`, `products`, ... or a custom object's type id (`2-1234567`)."),
    key: z.string().min(1).describe("The model column that identifies a row; its value is the `id_property` value in HubSpot (e.g. the `email` column)."),
    id_property: z
      .string()
      .min(1)
      .describe("The HubSpot property, unique per object, that the `key` column matches and that upserts find objects by: `email` for contacts, or a custom property with unique values."),
    properties: z
      .record(z.string().min(1), z.string().min(1))
      .optional()
      .describe(
        "Which columns to send, as `column: property` (the property's internal name in HubSpot). By default every column but `key`, each to the property of the same name.",
      ),
    batch_size: z.number().int().min(1).max(MAX_BATCH_SIZE).default(MAX_BATCH_SIZE).describe(`Objects per batch request; HubSpot takes at most ${MAX_BATCH_SIZE}.`),
    deletes: z
      .enum(["archive", "ignore"])
      .default("ignore")
      .describe(
        "What a row that left the model does to its object: `archive` it in HubSpot (to the recycle bin, restorable for 90 days), or `ignore` it (the default: deleting CRM data is opt-in).",
      ),
    max_deletes: z
      .number()
      .int()
      .min(0)
      .optional()
      .describe(
        "The most objects one run may archive; more fails the step before anything is sent. Unset: any number, except that a model that came back empty never archives everything (set this to allow it).",
      ),
    conflict: z
      .enum(["source_wins", "skip_remote_changes"])
      .default("source_wins")
      .describe(
        "When an object to update was also changed in HubSpot since the last sync: `source_wins` overwrites it with the model; `skip_remote_changes` leaves it and reports a conflict, every run, until the model or HubSpot changes.",
      ),
    rate: z
      .object({
        requests_per_second: z
          .number()
          .positive()
          .max(100)
          .default(DEFAULT_REQUESTS_PER_SECOND)
          .describe("Requests per second this step sends at most; HubSpot allows private apps 100 per 10 seconds (Free, Starter) shared by every app of the account."),
      })
      .default({ requests_per_second: DEFAULT_REQUESTS_PER_SECOND })
      .describe("The request budget of the step."),
    max_rejected: z
      .number()
      .int()
      .min(0)
      .optional()
      .describe("The most rows HubSpot may refuse before the step fails (after saving what it synced). Unset: refused rows never fail the step; they go to the rejected-records file either way."),
    max_retries: z.number().int().min(0).max(20).default(5).describe("Retries of a request after a 429, a 5xx, a timeout or a network error."),
    backoff_ms: z.number().int().min(1).max(60_000).default(1000).describe("First wait between retries, doubled each time (with jitter); a 429's Retry-After wins."),
    timeout_ms: z.number().int().min(1000).max(600_000).default(60_000).describe("Longest wait for one HubSpot response."),
  })
  .refine((o) => (o.query === undefined) !== (o.table === undefined), { message: "give exactly one of `query` and `table`", path: ["query"] })
  .refine((o) => !Object.values(o.properties ?? {}).includes(o.id_property), {
    message: "`properties` maps a column to the id_property; the `key` column is what is sent as the id_property",
    path: ["properties"],
  })
  .refine((o) => o.properties === undefined || !Object.hasOwn(o.properties, o.key), { message: "`properties` names the `key` column; the key is sent as the id_property", path: ["properties"] })
  .refine((o) => new Set(Object.values(o.properties ?? {})).size === Object.keys(o.properties ?? {}).length, {
    message: "`properties` sends two columns to one property",
    path: ["properties"],
  });

export type SyncOptions = z.output<typeof syncOptions>;
