/**
 * The error catalog. Every failure a user can cause has a stable code, typed
 * properties and a message that says what happened and exactly how to fix it.
 * The mapped type below makes a code without a message a compile error.
 */
import { redact } from "./redact.js";

export interface ErrorProps {
  XO_CONFIG_NOT_FOUND: { file: string };
  XO_CONFIG_YAML_SYNTAX: { detail: string };
  XO_CONFIG_ALIAS_LIMIT: { limit: number };
  XO_CONFIG_SIZE_LIMIT: { size: number; limit: number };
  XO_CONFIG_DEPTH_LIMIT: { limit: number; alias?: string | undefined };
  XO_CONFIG_KEY_LIMIT: { limit: number };
  XO_CONFIG_NOT_UTF8: { byte: number; offset: number };
  XO_CONFIG_NOT_A_MAPPING: { found: string };
  XO_CONFIG_UNKNOWN_KEY: { key: string; suggestion?: string | undefined; allowed: readonly string[] };
  XO_CONFIG_MISSING_KEY: { key: string; expected: string };
  XO_CONFIG_INVALID_TYPE: { expected: string; found: string };
  XO_CONFIG_INVALID_VALUE: { detail: string; expected?: string | undefined; found?: string | undefined; suggestion?: string | undefined };
  XO_CONFIG_UNSAFE_NAME: { what: string; value: string; pattern: string };
  XO_CONFIG_DUPLICATE_NAME: { what: string; value: string; firstPath: string; why?: string | undefined };
  XO_CONFIG_UNSAFE_PATH: { value: string };
  XO_CONFIG_CONFLICT: { first: string; second: string };
  XO_CONFIG_NO_DEFAULT: { what: "template" | "sink"; available: readonly string[] };
  XO_CONNECTION_REQUIRED: { what: string; plugin: string };
  XO_SINK_AMBIGUOUS: { source: string; sinks: readonly string[] };
  XO_SINK_TABLE_COLLISION: { what: string; stream?: string | undefined; table: string; sink: string; first: string; firstPath: string };
  XO_STEP_DESTINATION_COLLISION: { step: string; destination: string; first: string; firstPath: string };
  XO_TEMPLATE_SHAPE: { template: string; detail: string };
  XO_CHECKS_NO_STEP: { stream: string };
  XO_CHECKS_NOT_LOADED: { stream: string; why: string };
  XO_ALERT_CHANNEL: { found: readonly string[]; available: readonly string[] };
  XO_GRAPH_UNMATCHED: { pattern: string; available: readonly string[] };
  XO_GRAPH_CYCLE: { cycle: readonly string[] };
  XO_GRAPH_NOT_UPSTREAM: { task: string; needs: string; why: string };
  XO_STEP_EXPANSION_INVALID: { step: string; plugin: string; detail: string };
  XO_PLUGIN_UNKNOWN: {
    what: "source" | "sink" | "template" | "landing" | "step" | "observer" | "notifier";
    id: string;
    suggestion?: string | undefined;
    available: readonly string[];
  };
  XO_PLUGIN_API_VERSION: { plugin: string; found: number; expected: number };
  XO_PLUGIN_INVALID: { plugin: string; detail: string };
  XO_PLUGIN_DUPLICATE: { plugin: string; what: string };
  XO_PLUGIN_LOAD_FAILED: { plugin: string; detail: string };
  XO_PLUGIN_DEV_DEPENDENCY: { plugin: string };
  XO_CONNECTION_MISSING: { id: string; envVar: string };
  XO_CONNECTION_INVALID: { id: string; envVar: string; detail: string };
  XO_OAUTH_REFUSED: { connection: string; envVar: string; grant: string; tokenUrl: string; error: string; description?: string | undefined };
  XO_OAUTH_UNAVAILABLE: { connection: string; envVar: string; tokenUrl: string; detail: string; attempts: number };
  XO_TASK_UNKNOWN: { task: string; available: readonly string[] };
  XO_DATE_INVALID: { value: string };
  XO_MANIFEST_MISSING: { uri: string; stream: string };
  XO_STEP_FAILED: { plugin: string; hook: string; task: string; detail: string };
  XO_WAREHOUSE_UNAVAILABLE: { sink: string; plugin: string; available: readonly string[] };
  XO_STATE_INVALID: { stream: string; detail: string };
  XO_NOTHING_TO_DELIVER: { task: string; detail: string; hint: string };
  XO_DAG_STALE: { files: readonly string[] };
  XO_DAG_NOT_OURS: { file: string; pipeline: string; project: string; owner?: string | undefined };
  XO_PATH_INVALID: { value: string; detail: string; schemes?: readonly string[] | undefined };
  XO_LANDING_LOCKED: {
    task: string;
    runId: string;
    stream: string;
    partition: string;
    /** The holder: `run "x" (task "y", pid 1 on host, since ..., last heartbeat ...)`. */
    holder: string;
    expiresAt: string;
    /** The lock folder to delete by hand. */
    lock: string;
    waitedSeconds: number;
  };
  XO_LANDING_LOCK_LOST: { task: string; stream: string; partition: string; holder: string };
  XO_LANDING_WRITE_FAILED: { uri: string; reason: string; errno: string };
}

export type ErrorCode = keyof ErrorProps;

interface MessageParts {
  readonly message: string;
  readonly hint?: string;
}

const quote = (s: string) => JSON.stringify(s);
const didYouMean = (s: string | undefined) => (s ? `did you mean ${quote(s)}?` : undefined);
const list = (items: readonly string[]) => (items.length ? items.map(quote).join(", ") : "(none)");

const messages: { [C in ErrorCode]: (p: ErrorProps[C]) => MessageParts } = {
  XO_CONFIG_NOT_FOUND: (p) => ({
    message: `no such file or directory: ${p.file}`,
    hint: "check the path; directories are searched for *.yaml and *.yml files",
  }),
  XO_CONFIG_YAML_SYNTAX: (p) => ({ message: `YAML syntax error: ${p.detail}`, hint: "fix the YAML at this position" }),
  XO_CONFIG_ALIAS_LIMIT: (p) => ({
    message: `too many YAML alias expansions (limit ${p.limit})`,
    hint: "the file expands aliases exponentially (an alias bomb); write the values out instead",
  }),
  XO_CONFIG_SIZE_LIMIT: (p) => ({
    message: `the file is ${p.size} bytes, over the limit of ${p.limit} bytes (${p.limit / 1024 / 1024} MiB)`,
    hint: "a pipeline file needs a few kilobytes: keep one pipeline per file, and move long lists and SQL out of the config",
  }),
  XO_CONFIG_DEPTH_LIMIT: (p) => ({
    message: `the YAML nests deeper than ${p.limit} levels${p.alias !== undefined ? ` once alias *${p.alias} is expanded` : ""}`,
    hint: "flatten the structure: a pipeline config needs a handful of levels, so this file is probably generated or damaged",
  }),
  XO_CONFIG_KEY_LIMIT: (p) => ({
    message: `the file has more than ${p.limit} keys`,
    hint: "a pipeline needs a few hundred keys at most: split the file into one pipeline per file, or check the tool that generated it",
  }),
  XO_CONFIG_NOT_UTF8: (p) => ({
    message: `not UTF-8: byte 0x${p.byte.toString(16).toUpperCase().padStart(2, "0")} at byte offset ${p.offset} does not start a valid UTF-8 character`,
    hint: "save the file as UTF-8 (the editor's \"Save with Encoding\", or `iconv -f windows-1252 -t utf-8`); accented letters saved as Latin-1 or Windows-1252 are the usual cause",
  }),
  XO_CONFIG_NOT_A_MAPPING: (p) => ({
    message: `a pipeline file must be a YAML mapping, found ${p.found}`,
    hint: "start the file with `pipeline:`, `source:` and `sink:` blocks (see examples/)",
  }),
  XO_CONFIG_UNKNOWN_KEY: (p) => ({
    message: `unknown key ${quote(p.key)}`,
    hint: didYouMean(p.suggestion) ?? (p.allowed.length ? `allowed keys here: ${list(p.allowed)}` : "remove it"),
  }),
  XO_CONFIG_MISSING_KEY: (p) => ({
    message: `missing required key ${quote(p.key)}`,
    hint: `add \`${p.key}:\` with ${p.expected}`,
  }),
  XO_CONFIG_INVALID_TYPE: (p) => ({
    message: `expected ${p.expected}, found ${p.found}`,
    hint: `change the value to ${p.expected}`,
  }),
  XO_CONFIG_INVALID_VALUE: (p) => ({
    message: p.found !== undefined ? `${p.detail} (found ${p.found})` : p.detail,
    hint: didYouMean(p.suggestion) ?? (p.expected ? `expected ${p.expected}` : "see the config reference in docs/config.md"),
  }),
  XO_CONFIG_UNSAFE_NAME: (p) => ({
    message: `${p.what} ${quote(p.value)} is not a safe name`,
    hint: `use ${p.pattern}; names become Airflow ids, table names and landing paths`,
  }),
  XO_CONFIG_DUPLICATE_NAME: (p) => ({
    message: `${p.what} ${quote(p.value)} is already used at ${p.firstPath}`,
    hint: `give every ${p.what} a unique name${p.why ? ` (${p.why})` : ""}`,
  }),
  XO_CONFIG_UNSAFE_PATH: (p) => ({
    message: `pipeline file path ${quote(p.value)} cannot be passed to Airflow tasks safely`,
    hint: "rename it to use only letters, digits, `.`, `_`, `-` and `/`; no part may start with `-` or be `.` or `..`",
  }),
  XO_CONFIG_CONFLICT: (p) => ({
    message: `\`${p.first}\` and \`${p.second}\` cannot both be set`,
    hint: `keep one: \`${p.first}\` is the shorthand for one entry of \`${p.second}\` (named "main")`,
  }),
  XO_CONFIG_NO_DEFAULT: (p) => ({
    message: `no ${p.what} is named and no installed ${p.what} is the default`,
    hint: p.available.length
      ? `set \`${p.what}:\` to one of ${list(p.available)} (here or in xo-foundry.yaml \`defaults:\`)`
      : `no ${p.what} is installed: npm install ${p.what === "template" ? "@xo-foundry/template-ingest" : "@xo-foundry/plugin-duckdb"} (or another ${p.what} plugin) and keep it in your project's dependencies`,
  }),
  XO_CONNECTION_REQUIRED: (p) => ({
    message: `${p.what} needs a connection (${p.plugin} requires one)`,
    hint: "add `connection: <id>` and define it (XO_CONN_<ID> locally, an Airflow connection in Airflow)",
  }),
  XO_SINK_AMBIGUOUS: (p) => ({
    message: `source ${quote(p.source)} does not say which sink its streams load into`,
    hint: `add \`sink:\` with one of ${list(p.sinks)} to the source block`,
  }),
  XO_SINK_TABLE_COLLISION: (p) => ({
    message: `${p.what} loads ${p.stream !== undefined ? `stream ${quote(p.stream)} ` : ""}into ${p.table} of sink ${quote(p.sink)}, as ${p.first} does (${p.firstPath})`,
    hint: "set `target.table` of one of them to another table, or load it into another sink: two streams in one table replace or mix with each other's rows, whatever the mode",
  }),
  XO_STEP_DESTINATION_COLLISION: (p) => ({
    message: `step ${quote(p.step)} delivers to ${p.destination}, as step ${quote(p.first)} does (${p.firstPath})`,
    hint: "give one of them another folder, bucket, endpoint or file name: two deliveries to one place replace or mix with each other's data",
  }),
  XO_CHECKS_NO_STEP: (p) => ({
    message: `stream ${quote(p.stream)} has checks, and no installed plugin runs checks`,
    hint: "add a plugin whose step type runs checks to the project's dependencies (`xo-foundry plugins` lists what is installed)",
  }),
  XO_CHECKS_NOT_LOADED: (p) => ({
    message: `stream ${quote(p.stream)} has post_load checks, but ${p.why}`,
    hint: "make them `at: pre_load` (they run on the landed files), or load the stream",
  }),
  XO_ALERT_CHANNEL: (p) => ({
    message:
      p.found.length === 0
        ? `an alert needs one channel next to \`on\`; available: ${p.available.join(", ") || "none installed"}`
        : `an alert has one channel; found ${p.found.join(" and ")}`,
    hint: p.found.length === 0 ? "add e.g. `slack: { connection: my_slack }`, or install the plugin of the channel you want" : "write one alert per channel, each with its own `on:`",
  }),
  XO_TEMPLATE_SHAPE: (p) => ({
    message: `the ${quote(p.template)} template cannot build this pipeline: ${p.detail}`,
    hint: "change the pipeline, or pick a template that fits it (`template: hybrid` takes many sources and sinks)",
  }),
  XO_GRAPH_UNMATCHED: (p) => ({
    message: `${quote(p.pattern)} matches no task`,
    hint: `tasks: ${list(p.available)}; \`*\` matches any run of characters, e.g. "load_*"`,
  }),
  XO_STEP_EXPANSION_INVALID: (p) => ({
    message: `step ${quote(p.step)} cannot be expanded into tasks by ${p.plugin}: ${p.detail}`,
    hint: "this is a fault of the plugin that provides the step type; report it to its authors, or configure the step so it runs as one task",
  }),
  XO_GRAPH_CYCLE: (p) => ({
    message: `tasks depend on each other in a cycle: ${p.cycle.join(" -> ")}`,
    hint: "remove one of these `after:` entries",
  }),
  XO_GRAPH_NOT_UPSTREAM: (p) => ({
    message: `task ${quote(p.task)} does not run after ${quote(p.needs)}: ${p.why}`,
    hint: `add ${quote(p.needs)} to its \`after:\``,
  }),
  XO_PLUGIN_UNKNOWN: (p) => ({
    message: `unknown ${p.what} plugin ${quote(p.id)}`,
    hint:
      didYouMean(p.suggestion) ??
      `installed ${p.what}s: ${list(p.available)}. Install the package that provides it (e.g. npm install @xo-foundry/${p.what === "template" ? "template" : "plugin"}-${p.what === "step" ? p.id.split(".")[0] : p.id}) and add it to your project's package.json dependencies`,
  }),
  XO_PLUGIN_API_VERSION: (p) => ({
    message: `plugin ${quote(p.plugin)} targets plugin API version ${p.found}, but this xo-foundry supports version ${p.expected}`,
    hint:
      p.found > p.expected
        ? "upgrade @xo-foundry/cli and @xo-foundry/core to a release that supports the newer plugin API"
        : `upgrade ${p.plugin} to a release built for plugin API version ${p.expected}`,
  }),
  XO_PLUGIN_INVALID: (p) => ({
    message: `${quote(p.plugin)} is not a valid xo-foundry plugin: ${p.detail}`,
    hint: "plugins are objects made with definePlugin() from @xo-foundry/core",
  }),
  XO_PLUGIN_DUPLICATE: (p) => ({
    message: `${p.what} is provided twice (second time by ${quote(p.plugin)})`,
    hint: "remove one of the plugins from your package.json dependencies or the project `plugins:` list",
  }),
  XO_PLUGIN_LOAD_FAILED: (p) => ({
    message: `could not load plugin ${quote(p.plugin)}: ${p.detail}`,
    hint: "run `npm install` in the project, then `xo-foundry plugins` to check what is discovered",
  }),
  XO_PLUGIN_DEV_DEPENDENCY: (p) => ({
    message: `plugin ${quote(p.plugin)} is listed under devDependencies, which \`npm ci --omit=dev\` leaves out on Airflow workers`,
    hint: `move it to dependencies: npm install ${p.plugin}`,
  }),
  XO_CONNECTION_MISSING: (p) => ({
    message: `connection ${quote(p.id)} is not defined`,
    hint: `set ${p.envVar} to a JSON object or a URI (in Airflow, define the connection ${quote(p.id)})`,
  }),
  XO_CONNECTION_INVALID: (p) => ({
    message: `connection ${quote(p.id)} in ${p.envVar} is invalid: ${p.detail}`,
    hint: `set ${p.envVar} to a JSON object like {"host": "...", "password": "..."} or a URI like https://user:secret@host`,
  }),
  XO_OAUTH_REFUSED: (p) => ({
    message: `the token endpoint ${p.tokenUrl} refused the ${p.grant.replace(/_/g, " ")} grant of connection ${quote(p.connection)}: ${p.error}${p.description ? ` (${p.description})` : ""}`,
    hint: oauthHint(p.error, p.grant, p.envVar),
  }),
  XO_OAUTH_UNAVAILABLE: (p) => ({
    message: `no access token for connection ${quote(p.connection)}: the token endpoint ${p.tokenUrl} failed ${p.attempts} times (${p.detail})`,
    hint: "the endpoint is down or unreachable from here; check the token URL and the network, then re-run the task",
  }),
  XO_TASK_UNKNOWN: (p) => ({
    message: `no task ${quote(p.task)} in this pipeline`,
    hint: `tasks: ${list(p.available)}`,
  }),
  XO_DATE_INVALID: (p) => ({
    message: `invalid date ${quote(p.value)}`,
    hint: "use YYYY-MM-DD, for example 2026-01-31",
  }),
  XO_MANIFEST_MISSING: (p) => ({
    message: `stream ${quote(p.stream)} has no landed data at ${p.uri}`,
    hint: "run the extract task for the same logical date first",
  }),
  XO_STEP_FAILED: (p) => ({
    message: `task ${quote(p.task)} failed in ${p.plugin} (${p.hook}): ${p.detail}`,
    hint: "fix the cause above and re-run the task; landed data of earlier runs is kept",
  }),
  XO_WAREHOUSE_UNAVAILABLE: (p) => ({
    message: `sink ${quote(p.sink)} (${p.plugin}) offers no warehouse to steps`,
    hint: p.available.length ? `use one of these sinks, which do: ${list(p.available)}` : "install a sink plugin that offers a warehouse (e.g. @xo-foundry/plugin-duckdb)",
  }),
  XO_STATE_INVALID: (p) => ({
    message: `invalid state for stream ${quote(p.stream)}: ${p.detail}`,
    hint: "state is a JSON object, e.g. '{\"cursor\": \"2026-01-01T00:00:00Z\"}'",
  }),
  XO_NOTHING_TO_DELIVER: (p) => ({
    message: `task ${quote(p.task)} has no files to deliver: ${p.detail}`,
    hint: p.hint,
  }),
  XO_DAG_STALE: (p) => ({
    message: `${p.files.length} generated DAG file(s) are out of date: ${p.files.join(", ")}`,
    hint: "run `xo-foundry generate-dags` and commit the result",
  }),
  XO_DAG_NOT_OURS: (p) => ({
    message:
      p.owner === undefined
        ? `${p.file} exists and was not written by xo-foundry; refusing to overwrite it with the DAG of ${p.pipeline}`
        : `${p.file} was generated by project ${quote(p.owner)}, not ${quote(p.project)}; refusing to overwrite it with the DAG of ${p.pipeline}`,
    hint:
      p.owner === undefined
        ? `move or delete ${p.file} if it is no longer needed, or set \`pipeline.dag_id\` in ${p.pipeline} to another value`
        : "give one of the two DAGs another `pipeline.dag_id` (Airflow needs unique dag_ids), or generate each project into its own folder",
  }),
  XO_PATH_INVALID: (p) => ({
    message: `invalid landing location ${quote(p.value)}: ${p.detail}`,
    hint: p.schemes
      ? `installed: ${p.schemes.map((s) => `${s}://`).join(", ")}; e.g. file://relative/or/absolute/path (another scheme needs the plugin that serves it, e.g. @xo-foundry/plugin-s3 for s3://)`
      : "use file://relative/or/absolute/path or s3://bucket/prefix",
  }),
  XO_LANDING_LOCKED: (p) => ({
    message:
      `task ${quote(p.task)} of run ${quote(p.runId)} cannot start: stream ${quote(p.stream)} partition ${p.partition} is in use by ${p.holder}` +
      (p.waitedSeconds > 0 ? `; waited ${p.waitedSeconds} s` : ""),
    hint:
      `two runs of one pipeline and date must not write the same partition: re-run this task once that run has ended (XO_LOCK_WAIT_SECONDS sets how long a task waits). ` +
      `If its process is gone, the lock expires by itself at ${p.expiresAt} and the next attempt takes it over; to clear it sooner, delete ${p.lock}`,
  }),
  XO_LANDING_LOCK_LOST: (p) => ({
    message: `task ${quote(p.task)} lost the lock of stream ${quote(p.stream)} partition ${p.partition} to ${p.holder}, and stopped before writing over that run's files`,
    hint: "its heartbeat came too late (a paused or overloaded process, or XO_LOCK_TTL_SECONDS set too short), so another run took the partition over: re-run this task once that run has ended",
  }),
  XO_LANDING_WRITE_FAILED: (p) => ({
    message: `cannot write ${p.uri} in the landing zone: ${p.reason} (${p.errno})`,
    hint:
      p.errno === "ENOSPC" || p.errno === "EDQUOT"
        ? "free space on the landing volume, or point `landing.uri` at a bigger one, and re-run the task; no half-written file was kept"
        : p.errno === "EROFS"
          ? "the landing folder is on a read-only file system: mount it read-write, or point `landing.uri` at a writable folder, and re-run the task"
          : "the user running xo-foundry may not write there: fix the folder's owner or permissions, or point `landing.uri` elsewhere, and re-run the task",
  }),
};

/** Every code of the catalog, for documentation checks and tooling. */
export const ERROR_CODES = Object.keys(messages) as ErrorCode[];

export type Severity = "error" | "warning";

/** One problem, located as precisely as we can. Serializes as-is for `--json`. */
export interface Diagnostic {
  /** A code of this catalog, or a plugin's own code (then `plugin` names the plugin). */
  readonly code: ErrorCode | (string & {});
  readonly severity: Severity;
  readonly message: string;
  readonly hint?: string;
  readonly file?: string;
  readonly line?: number;
  readonly column?: number;
  /** Dotted path into the config, e.g. `source.streams[0].name`. */
  readonly path?: string;
  /** The plugin (`name@version`) whose code this is, for plugin codes. */
  readonly plugin?: string;
  /** The task that failed, for failures at run time. */
  readonly task?: string;
  readonly docs: string;
}

export interface Location {
  readonly file?: string | undefined;
  readonly line?: number | undefined;
  readonly column?: number | undefined;
  readonly path?: string | undefined;
}

export const DOCS_BASE = "https://xo-foundry.dev/docs/errors";

export function diagnostic<C extends ErrorCode>(
  code: C,
  props: ErrorProps[C],
  where: Location = {},
  severity: Severity = "error",
): Diagnostic {
  const { message, hint } = messages[code](props);
  const d: Record<string, unknown> = { code, severity, message };
  if (hint) d.hint = hint;
  for (const key of ["file", "line", "column", "path"] as const) {
    if (where[key] !== undefined && where[key] !== "") d[key] = where[key];
  }
  d.docs = `${DOCS_BASE}#${code.toLowerCase()}`;
  return d as unknown as Diagnostic;
}

/** An expected failure: carries diagnostics for the user, never a stack trace. */
export class XoError extends Error {
  readonly diagnostics: readonly Diagnostic[];

  constructor(diagnostics: Diagnostic | readonly Diagnostic[]) {
    const all = Array.isArray(diagnostics) ? (diagnostics as readonly Diagnostic[]) : [diagnostics as Diagnostic];
    super(all.map((d) => d.message).join("; "));
    this.name = "XoError";
    this.diagnostics = all;
  }

  get code(): Diagnostic["code"] | undefined {
    return this.diagnostics[0]?.code;
  }
}

export function xoError<C extends ErrorCode>(code: C, props: ErrorProps[C], where?: Location): XoError {
  return new XoError(diagnostic(code, props, where));
}

export function isXoError(e: unknown): e is XoError {
  return e instanceof XoError || (e instanceof Error && e.name === "XoError" && "diagnostics" in e);
}

/** One diagnostic as a terminal line plus hint: `file:line:col error CODE path: message`. */
export function formatDiagnostic(d: Diagnostic): string {
  const where = d.file ? `${d.file}${d.line ? `:${d.line}:${d.column ?? 1}` : ""}` : "";
  const head = [where, `${d.severity} ${d.code}`].filter(Boolean).join(" ");
  const path = d.path ? `${d.path}: ` : "";
  return `${head}\n  ${path}${d.message}${d.hint ? `\n  hint: ${d.hint}` : ""}`;
}

/**
 * A failure a plugin reported with its own code (one it lists in `errors`, or any
 * `XO_` code): the code survives, and the plugin and task are named.
 */
/**
 * A plugin's own coded error (a code starting XO_ or one the plugin declares in `errors`):
 * its code, its message without the hint plugins often append (`\n  hint: ...`), and its
 * hint (the error's `hint`, else that appended one, else the catalog's text). Undefined for
 * any other error, which the caller reports under a core code.
 */
/**
 * A plugin's coded failure: `code` is a key of the plugin's `errors` catalog, and the core
 * reports it under that code with the plugin's name. Message and hint are redacted, since
 * they often quote what a service answered, and that can echo a credential back.
 */
export class PluginError<Code extends string = string> extends Error {
  readonly hint: string;
  constructor(
    readonly code: Code,
    message: string,
    hint: string,
    options?: { cause?: unknown },
  ) {
    const safeHint = redact(hint);
    super(`${redact(message)}\n  hint: ${safeHint}`, options);
    this.hint = safeHint;
  }
}

export function pluginErrorParts(
  errors: Readonly<Record<string, string>> | undefined,
  e: unknown,
): { code: string; message: string; hint: string | undefined } | undefined {
  const code = (e as { code?: unknown } | null)?.code;
  if (typeof code !== "string" || !(code.startsWith("XO_") || errors?.[code] !== undefined)) return undefined;
  const [message = "", inlineHint] = (e instanceof Error ? e.message : String(e)).split(/\n\s*hint: /);
  const hint = (e as { hint?: unknown }).hint;
  return { code, message: message.trim(), hint: (typeof hint === "string" ? hint : (inlineHint ?? errors?.[code])) || undefined };
}

export function pluginDiagnostic(p: { code: string; message: string; hint?: string | undefined; plugin: string; task?: string | undefined }): Diagnostic {
  const d: Record<string, unknown> = { code: p.code, severity: "error", message: p.message };
  if (p.hint) d.hint = p.hint;
  d.plugin = p.plugin;
  if (p.task !== undefined) d.task = p.task;
  d.docs = `${DOCS_BASE}#plugin-codes`;
  return d as unknown as Diagnostic;
}

/** What to do about an RFC 6749 section 5.2 error code. */
function oauthHint(error: string, grant: string, envVar: string): string {
  switch (error) {
    case "invalid_grant":
      return grant === "service_account"
        ? `the service account's key was deleted or disabled, or it may not act as that subject; create a new key or check domain-wide delegation, then update ${envVar}`
        : `the refresh token was revoked or has expired; authorize again to get a new one and update extra.refresh_token in ${envVar}`;
    case "invalid_client":
    case "unauthorized_client":
      return `check the client id (login) and client secret (password) in ${envVar}, and that this client may use the ${grant.replace(/_/g, " ")} grant`;
    case "invalid_scope":
      return "the requested scopes are not granted to this client; ask the API's administrator, or request fewer scopes";
    default:
      return `check the credentials in ${envVar} and the token URL`;
  }
}
