/**
 * An alert webhook on 127.0.0.1 for the `webhook` notifier's tests: an endpoint that takes
 * JSON POSTs, as any incident tool or chat bridge does. There is no vendor to follow; it
 * answers by HTTP's own rules (RFC 9110): 405 with `Allow` for another method, 404 for
 * another path, 401 with `WWW-Authenticate` without the expected Basic credentials or
 * bearer token, 415 for a body that is not `application/json`, 400 for JSON that is not an
 * object, and 204 for an alert it takes. Scripted answers (429 with `Retry-After`, RFC 6585
 * and RFC 9110 10.2.3; 5xx; any 4xx) replace the next requests' answers.
 *
 * `connection()` is the Airflow JSON form of an `http` connection to it, with the
 * credentials it expects: Airflow's HttpHook and our sender both send Basic auth from the
 * login and password, and the other keys of `extra` as headers.
 */
import { startScriptedServer, type RecordedRequest, type ScriptedResponse, type ScriptedServer } from "@xo-foundry/testkit";

export interface ReceivedAlert {
  readonly path: string;
  readonly headers: RecordedRequest["headers"];
  readonly body: Readonly<Record<string, unknown>>;
}

export interface AlertReceiverOptions {
  /** Where alerts are taken; `/hooks/xo` by default. */
  readonly path?: string;
  /** Require HTTP Basic auth with these credentials. */
  readonly basic?: { readonly user: string; readonly pass: string };
  /** Instead of `basic`: require `Authorization: Bearer <token>` (which a connection sends from `extra.Authorization`). */
  readonly bearer?: string;
}

export interface AlertReceiver {
  /** `http://127.0.0.1:<port>`. */
  readonly url: string;
  readonly path: string;
  /** Alerts taken, in order. */
  readonly alerts: ReceivedAlert[];
  /** Every request, taken or not. */
  readonly requests: readonly RecordedRequest[];
  /** Answers for the next requests instead of taking them, one each, in order. */
  script(...answers: ScriptedResponse[]): void;
  /** The Airflow JSON form of an `http` connection to this receiver, with its credentials. */
  connection(extra?: Readonly<Record<string, unknown>>): Record<string, unknown>;
  close(): Promise<void>;
}

export async function startAlertReceiver(options: AlertReceiverOptions = {}): Promise<AlertReceiver> {
  const path = options.path ?? "/hooks/xo";
  const alerts: ReceivedAlert[] = [];
  const scripted: ScriptedResponse[] = [];

  const respond = (request: RecordedRequest): ScriptedResponse => {
    const next = scripted.shift();
    if (next) return next;
    if (request.path !== path) return problem(404, "no such hook");
    if (request.method !== "POST") return { ...problem(405, "POST only"), headers: { allow: "POST" } };
    const authorization = String(request.headers.authorization ?? "");
    const basic = options.basic && `Basic ${Buffer.from(`${options.basic.user}:${options.basic.pass}`).toString("base64")}`;
    const ok = basic ? authorization === basic : options.bearer ? authorization === `Bearer ${options.bearer}` : true;
    if (!ok) return { ...problem(401, "missing or wrong credentials"), headers: { "www-authenticate": options.basic ? 'Basic realm="alerts"' : 'Bearer realm="alerts"' } };
    if (String(request.headers["content-type"] ?? "").split(";")[0]!.trim().toLowerCase() !== "application/json") return problem(415, "send application/json");
    let body: unknown;
    try {
      body = JSON.parse(request.body);
    } catch {
      return problem(400, "the body is not JSON");
    }
    if (typeof body !== "object" || body === null || Array.isArray(body)) return problem(400, "expected a JSON object");
    alerts.push({ path: request.path, headers: request.headers, body: body as Record<string, unknown> });
    return { status: 204 };
  };

  const server: ScriptedServer = await startScriptedServer([{ path: () => true, respond }]);
  const port = Number(new URL(server.url).port);
  return {
    url: server.url,
    path,
    alerts,
    get requests() {
      return server.requests;
    },
    script: (...answers) => void scripted.push(...answers),
    connection: (extra = {}) => ({
      conn_type: "http",
      host: "127.0.0.1",
      port,
      schema: "http",
      ...(options.basic ? { login: options.basic.user, password: options.basic.pass } : {}),
      ...(options.bearer && !options.basic ? { extra: { Authorization: `Bearer ${options.bearer}`, ...extra } } : Object.keys(extra).length ? { extra } : {}),
    }),
    close: () => server.close(),
  };
}

/** An RFC 9457 problem document. */
function problem(status: number, detail: string): ScriptedResponse {
  return { status, headers: { "content-type": "application/problem+json" }, body: JSON.stringify({ status, detail }) };
}
