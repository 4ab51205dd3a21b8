/**
 * Connections hold credentials. They never live in pipeline files or DAGs: at run
 * time each one comes from the environment variable `XO_CONN_<ID>`, which Airflow
 * fills from its own connection store and which a developer sets by hand locally.
 * The value is Airflow's JSON connection format or an Airflow-style URI.
 */
import { xoError } from "./errors.js";
import { registerSecret } from "./redact.js";

export interface Connection {
  readonly id: string;
  readonly type?: string;
  readonly host?: string;
  readonly port?: number;
  readonly login?: string;
  readonly password?: string;
  readonly schema?: string;
  readonly extra: Readonly<Record<string, unknown>>;
}

export function connectionEnvVar(id: string): string {
  return `XO_CONN_${id.toUpperCase()}`;
}

/** `connection "crm" (XO_CONN_CRM)`: where a user fixes a credential, for hints and errors. */
export function describeConnection(id: string | undefined, owner = "source"): string {
  return id ? `connection ${JSON.stringify(id)} (${connectionEnvVar(id)})` : `the ${owner}'s connection`;
}

export function resolveConnection(id: string, env: NodeJS.ProcessEnv = process.env): Connection {
  const envVar = connectionEnvVar(id);
  const raw = env[envVar]?.trim();
  if (!raw) throw xoError("XO_CONNECTION_MISSING", { id, envVar });
  const conn = raw.startsWith("{") ? fromJson(id, envVar, raw) : fromUri(id, envVar, raw);
  registerSecrets(conn);
  return conn;
}

/** Keys whose values are credentials, in `extra` and in query strings (Airflow's sensitive names, and more). */
const SECRET_KEY = /secret|token|passw|pwd|passphrase|key|credential|authorization|signature|^sig$|private/i;

/**
 * Registers every credential a connection holds with the redactor before anything can
 * print it: the password (with the login, for Basic auth headers), every value of a
 * query string in the host (a base URL such as `https://api.example.com/v1?api_key=...`
 * carries nothing else there), and in `extra`, at any depth, the values under
 * secret-looking keys, the credential of an `Authorization`-style value
 * (`Bearer <token>`), and the password and secret-looking query values of URLs.
 */
function registerSecrets(conn: Connection): void {
  registerSecret(conn.password, { login: conn.login });
  if (conn.host) registerUrlSecrets(conn.host, "every query value");
  // Explicit stack: `extra` comes from the user, and its depth is theirs to choose.
  const stack: { value: unknown; secret: boolean }[] = [{ value: conn.extra, secret: false }];
  for (let item = stack.pop(); item; item = stack.pop()) {
    const { value, secret } = item;
    if (typeof value === "string") {
      if (secret) {
        registerSecret(value);
        registerSecret(/^[A-Za-z][\w-]*\s+(\S+)$/.exec(value)?.[1]);
      } else registerUrlSecrets(value, "secret-looking query values");
    } else if (typeof value === "number" || typeof value === "bigint") {
      if (secret) registerSecret(String(value));
    } else if (Array.isArray(value)) {
      for (const v of value) stack.push({ value: v, secret });
    } else if (typeof value === "object" && value !== null) {
      for (const [k, v] of Object.entries(value)) stack.push({ value: v, secret: secret || SECRET_KEY.test(k) });
    }
  }
}

function registerUrlSecrets(value: string, which: "every query value" | "secret-looking query values"): void {
  const userinfo = /^[a-z][a-z0-9+.-]*:\/\/[^/?#@:]*:([^/?#@]*)@/i.exec(value);
  if (userinfo) registerSecret(safeDecode(userinfo[1]!));
  const query = /\?([^#]*)/.exec(value)?.[1];
  if (!query) return;
  for (const [key, v] of new URLSearchParams(query)) {
    if (which === "every query value" || SECRET_KEY.test(key)) registerSecret(v);
  }
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

function fromJson(id: string, envVar: string, raw: string): Connection {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    // Never echo the value: it holds secrets.
    throw xoError("XO_CONNECTION_INVALID", { id, envVar, detail: "not valid JSON" });
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw xoError("XO_CONNECTION_INVALID", { id, envVar, detail: "expected a JSON object" });
  }
  const o = parsed as Record<string, unknown>;
  let extra: unknown = o.extra ?? {};
  if (typeof extra === "string") {
    try {
      extra = extra.trim() ? JSON.parse(extra) : {};
    } catch {
      throw xoError("XO_CONNECTION_INVALID", { id, envVar, detail: "`extra` is not valid JSON" });
    }
  }
  const str = (k: string) => (typeof o[k] === "string" && o[k] !== "" ? (o[k] as string) : undefined);
  const port = o.port === undefined || o.port === null || o.port === "" ? undefined : Number(o.port);
  if (port !== undefined && !Number.isInteger(port)) {
    throw xoError("XO_CONNECTION_INVALID", { id, envVar, detail: "`port` is not an integer" });
  }
  return compact({
    id,
    type: str("conn_type") ?? str("type"),
    host: str("host"),
    port,
    login: str("login"),
    password: str("password"),
    schema: str("schema"),
    extra: (extra ?? {}) as Record<string, unknown>,
  });
}

/**
 * Airflow's URI form (`get_uri()`), split the way Airflow's own parser does. WHATWG
 * URL parsing cannot be used: Airflow writes connections without a host, such as
 * `aws://KEY:SECRET@/?region_name=...`, which it rejects.
 */
const AIRFLOW_URI = /^([a-z][a-z0-9+.-]*):\/\/(?:([^:@/?#]*)(?::([^@/?#]*))?@)?([^:/?#]*)(?::(\d+))?(\/[^?#]*)?(?:\?([^#]*))?(?:#.*)?$/i;

function fromUri(id: string, envVar: string, raw: string): Connection {
  const match = AIRFLOW_URI.exec(raw);
  if (!match) throw xoError("XO_CONNECTION_INVALID", { id, envVar, detail: "not a URI or JSON object" });
  const [, scheme, user, pass, host, port, pathname, query] = match;
  const extra: Record<string, unknown> = {};
  for (const [key, value] of new URLSearchParams(query ?? "")) {
    if (key === "__extra__") {
      try {
        Object.assign(extra, JSON.parse(value));
      } catch {
        throw xoError("XO_CONNECTION_INVALID", { id, envVar, detail: "`__extra__` is not valid JSON" });
      }
    } else {
      extra[key] = value;
    }
  }
  const decode = (s: string | undefined) => {
    if (!s) return undefined;
    try {
      return decodeURIComponent(s);
    } catch {
      throw xoError("XO_CONNECTION_INVALID", { id, envVar, detail: "a part of the URI is not valid percent-encoding" });
    }
  };
  return compact({
    id,
    type: scheme!.toLowerCase().replace(/-/g, "_"),
    host: decode(host),
    port: port ? Number(port) : undefined,
    login: decode(user),
    password: decode(pass),
    schema: decode(pathname?.replace(/^\//, "")),
    extra,
  });
}

const HTTP_SCHEMES = ["http", "https"];

/**
 * The base URL of an HTTP(S) connection, or undefined when it names no host. The host
 * is a full URL, or a bare host completed by `port` and a scheme: `extra.scheme`, else
 * `schema` when it is http/https (Airflow HTTP connections keep the scheme there), else
 * the connection type when it is http/https (what Airflow's get_uri() writes), else
 * https. Otherwise `schema` is the base path, as URI-style connections put it.
 */
export function connectionBaseUrl(connection: Connection): URL | undefined {
  const { host } = connection;
  if (!host) return undefined;
  const invalid = (detail: string) => xoError("XO_CONNECTION_INVALID", { id: connection.id, envVar: connectionEnvVar(connection.id), detail });
  const lower = (v: unknown) => (typeof v === "string" ? v.toLowerCase() : undefined);
  let url: URL;
  try {
    if (/^https?:\/\//i.test(host)) {
      url = new URL(host);
      if (!url.port && connection.port) url.port = String(connection.port);
      return url;
    }
    const schemaIsScheme = HTTP_SCHEMES.includes(lower(connection.schema) ?? "");
    const typeScheme = HTTP_SCHEMES.includes(lower(connection.type) ?? "") ? lower(connection.type) : undefined;
    const scheme = lower(connection.extra.scheme) ?? (schemaIsScheme ? lower(connection.schema) : undefined) ?? typeScheme ?? "https";
    if (!HTTP_SCHEMES.includes(scheme)) throw invalid(`unsupported scheme ${JSON.stringify(scheme)}: use http or https`);
    const port = connection.port ? `:${connection.port}` : "";
    const path = connection.schema && !schemaIsScheme ? `/${connection.schema.replace(/^\/+/, "")}` : "";
    url = new URL(`${scheme}://${host}${port}${path}`);
  } catch (e) {
    if (e instanceof Error && e.name === "XoError") throw e;
    throw invalid("the host is not a URL or host name");
  }
  return url;
}

function compact(c: Record<string, unknown>): Connection {
  return Object.fromEntries(Object.entries(c).filter(([, v]) => v !== undefined)) as unknown as Connection;
}
