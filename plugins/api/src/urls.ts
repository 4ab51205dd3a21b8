/** Where requests go: the base URL from options or connection, the stream's path and its query. */
import { connectionBaseUrl, describeConnection, type Connection, type DataWindow } from "@xo-foundry/core";
import { PLACEHOLDER_PATTERN, type Placeholder } from "./options.js";

/**
 * `base_url` wins; otherwise the connection's base URL (see core's connectionBaseUrl).
 * `option` names what the user can set instead, in the words of the block that asks.
 */
export function resolveBaseUrl(
  baseUrl: string | undefined,
  connection: Connection | undefined,
  connectionId: string | undefined,
  option = "`base_url` in the source block",
): URL {
  if (baseUrl) return new URL(baseUrl);
  const url = connection && connectionBaseUrl(connection);
  if (!url) {
    throw new Error(
      `no base URL: set ${option}, or the host of ${describeConnection(connection?.id ?? connectionId)} ` +
        `(a full URL like https://api.example.com/v1, or a host with port and extra.scheme)`,
    );
  }
  return url;
}

/**
 * Appends `path` to the base URL's path. `new URL(path, base)` would drop the last
 * segment of a base without a trailing slash (`/v1` + `customers` -> `/customers`),
 * which is never what a user writing `base_url: .../v1` means.
 */
export function buildUrl(base: URL, path: string, params: Readonly<Record<string, string>>): URL {
  const url = new URL(base.href);
  const [pathname = "", query] = path.split(/\?(.*)/s, 2);
  const segment = pathname.replace(/^\/+/, "");
  url.pathname = segment ? `${url.pathname.replace(/\/+$/, "")}/${segment}` : url.pathname;
  if (query) for (const [k, v] of new URLSearchParams(query)) url.searchParams.set(k, v);
  for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
  return url;
}

/** Returns a copy of `url` with the given query parameters set. */
export function withParams(url: URL, params: Readonly<Record<string, string | number>>): URL {
  const next = new URL(url.href);
  for (const [k, v] of Object.entries(params)) next.searchParams.set(k, String(v));
  return next;
}

/** The value of every placeholder of PLACEHOLDERS; `{cursor}` only for incremental streams. */
export type PlaceholderValues = Readonly<Partial<Record<Placeholder, string>>>;

export function placeholderValues(window: DataWindow, cursor?: string | number): PlaceholderValues {
  return {
    logical_date: window.logicalDate,
    window_start: window.start,
    window_end: window.end,
    // Window bounds carry the pipeline timezone's offset, so their first ten characters are local dates.
    window_start_date: window.start.slice(0, 10),
    window_end_date: window.end.slice(0, 10),
    ...(cursor === undefined ? {} : { cursor: String(cursor) }),
  };
}

export function fillPlaceholders(text: string, values: PlaceholderValues): string {
  // hasOwn: `{constructor}` must not reach Object.prototype.
  return text.replace(PLACEHOLDER_PATTERN, (whole, name: string) => (Object.hasOwn(values, name) ? values[name as Placeholder] : undefined) ?? whole);
}

/** A JSON value with the placeholders of every string filled in, at any depth. */
export function fillJson(value: unknown, values: PlaceholderValues): unknown {
  if (typeof value === "string") return fillPlaceholders(value, values);
  if (Array.isArray(value)) return value.map((v) => fillJson(v, values));
  if (typeof value === "object" && value !== null) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fillJson(v, values)]));
  return value;
}

export function queryParams(params: Readonly<Record<string, string | number | boolean>>, values: PlaceholderValues): Record<string, string> {
  return Object.fromEntries(
    Object.entries(params).map(([k, v]) => [k, typeof v === "string" ? fillPlaceholders(v, values) : String(v)]),
  );
}

/** Words that mark a query parameter as secret whatever the auth settings say (`access_token`, `apiKey`, `sig`). */
const SECRET_WORDS = new Set(["key", "apikey", "token", "secret", "password", "passwd", "pwd", "signature", "sig", "auth", "session", "credential", "credentials"]);

function looksSecret(name: string): boolean {
  const words = name.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toLowerCase().split(/[^a-z0-9]+/);
  return words.some((w) => SECRET_WORDS.has(w));
}

/** The URL as it may appear in logs and errors: credentials and secret-looking query values masked. */
export function printableUrl(url: URL, secretParams: readonly string[] = []): string {
  const shown = new URL(url.href);
  shown.username = "";
  shown.password = "";
  for (const key of [...new Set(shown.searchParams.keys())]) {
    if (secretParams.includes(key) || looksSecret(key)) shown.searchParams.set(key, "***");
  }
  // URLSearchParams percent-encodes the mask; keep it readable.
  return shown.href.replace(/=%2A%2A%2A/g, "=***");
}
