/**
 * An OpenLineage backend on 127.0.0.1 for tests, following two published descriptions:
 * the OpenLineage spec's JSON Schema (spec/OpenLineage.json, 2-0-2, and the facet schemas
 * of spec/facets/, see openlineage/README.md), which every event must satisfy; and
 * Marquez's lineage API (`POST /api/v1/lineage`, JSON body; 201 Created when the event is
 * taken, 400 Bad Request when it is not a valid event). Like Marquez, it refuses what the
 * schema refuses; on top of that it checks each facet whose `_schemaURL` names one of the
 * facet schemas it holds, which Marquez stores without checking.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Ajv2020, type ValidateFunction } from "ajv/dist/2020.js";
import addFormats from "ajv-formats";

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, "../../../..");

/**
 * Where the schema files are: $XO_OPENLINEAGE_SPEC_DIR, else next to this file, else the
 * steering repo's shared/ beside the repository (where fetched data files belong).
 */
export function openLineageSpecDir(env: NodeJS.ProcessEnv = process.env): string {
  const candidates = [env.XO_OPENLINEAGE_SPEC_DIR, path.join(here, "openlineage"), path.resolve(repo, "../shared/openlineage")].filter((d): d is string => !!d);
  const found = candidates.find((d) => existsSync(path.join(d, "OpenLineage.json")));
  if (!found) {
    throw new Error(
      `the OpenLineage JSON Schema (OpenLineage.json and facets/*.json) is in none of: ${candidates.join(", ")}; see packages/runtime/src/__fixtures__/openlineage/README.md`,
    );
  }
  return found;
}

export interface EventCheck {
  /** Empty when the event is valid. */
  readonly errors: readonly string[];
  /** The facet schemas (their `$id`) each facet was checked against, as `<facet key> <id>`. */
  readonly facets: readonly string[];
}

/** Checks events against the spec: the event schema, then each facet that names a schema held here. */
export function openLineageValidator(specDir = openLineageSpecDir()): (event: unknown) => EventCheck {
  const ajv = new Ajv2020({ allErrors: true, strict: false });
  addFormats.default(ajv);
  const core = JSON.parse(readFileSync(path.join(specDir, "OpenLineage.json"), "utf8")) as { $id: string };
  ajv.addSchema(core);
  const facetSchemas = new Map<string, ValidateFunction>();
  const facetDir = path.join(specDir, "facets");
  for (const file of existsSync(facetDir) ? readdirSync(facetDir).filter((f) => f.endsWith(".json")).sort() : []) {
    const schema = JSON.parse(readFileSync(path.join(facetDir, file), "utf8")) as { $id: string };
    ajv.addSchema(schema);
    facetSchemas.set(schema.$id, ajv.getSchema(schema.$id)!);
  }
  const validateEvent = ajv.getSchema(core.$id)!;
  const messages = (v: ValidateFunction, prefix: string) => (v.errors ?? []).map((e) => `${prefix}${e.instancePath || "/"} ${e.message ?? "is invalid"}`);

  return (event) => {
    if (!validateEvent(event)) return { errors: messages(validateEvent, ""), facets: [] };
    const errors: string[] = [];
    const facets: string[] = [];
    for (const [where, group] of facetGroups(event)) {
      for (const [key, value] of Object.entries(group)) {
        const url = (value as { _schemaURL?: unknown })._schemaURL;
        const id = typeof url === "string" ? url.split("#")[0]! : "";
        const validate = facetSchemas.get(id);
        if (!validate) continue;
        facets.push(`${key} ${id}`);
        // A facet file's schema is an object with the facet under its key: `{ "jobType": {...} }`.
        if (!validate({ [key]: value })) errors.push(...messages(validate, `${where}/${key}: `));
      }
    }
    return { errors, facets };
  };
}

/** Every facets object of an event, with where it is. */
function facetGroups(event: unknown): [string, Record<string, unknown>][] {
  const e = event as { run?: { facets?: object }; job?: { facets?: object }; inputs?: { facets?: object; inputFacets?: object }[]; outputs?: { facets?: object; outputFacets?: object }[] };
  const groups: [string, object | undefined][] = [
    ["/run/facets", e.run?.facets],
    ["/job/facets", e.job?.facets],
    ...(e.inputs ?? []).flatMap((d, i): [string, object | undefined][] => [[`/inputs/${i}/facets`, d.facets], [`/inputs/${i}/inputFacets`, d.inputFacets]]),
    ...(e.outputs ?? []).flatMap((d, i): [string, object | undefined][] => [[`/outputs/${i}/facets`, d.facets], [`/outputs/${i}/outputFacets`, d.outputFacets]]),
  ];
  return groups.filter((g): g is [string, Record<string, unknown>] => typeof g[1] === "object" && g[1] !== null);
}

export interface ReceivedEvent {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests read whatever the event holds
  readonly event: any;
  readonly facets: readonly string[];
  readonly headers: IncomingHttpHeaders;
}

export interface OpenLineageReceiver {
  /** The base URL, for OPENLINEAGE_URL. */
  readonly url: string;
  /** Valid events, in the order they came. */
  readonly events: ReceivedEvent[];
  /** What was refused, and why. */
  readonly refused: { readonly body: string; readonly errors: readonly string[] }[];
  close(): Promise<void>;
}

export interface ReceiverOptions {
  /** The endpoint path; `/api/v1/lineage` by default, as Marquez serves it. */
  readonly endpoint?: string;
  /** When set, a request without `Authorization: Bearer <apiKey>` gets 401. */
  readonly apiKey?: string;
  readonly specDir?: string;
}

export async function openLineageReceiver(options: ReceiverOptions = {}): Promise<OpenLineageReceiver> {
  const check = openLineageValidator(options.specDir);
  const endpoint = options.endpoint ?? "/api/v1/lineage";
  const events: ReceivedEvent[] = [];
  const refused: { body: string; errors: string[] }[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      const answer = (status: number, payload?: unknown) => {
        res.writeHead(status, payload === undefined ? {} : { "content-type": "application/json" });
        res.end(payload === undefined ? undefined : JSON.stringify(payload));
      };
      if (new URL(req.url ?? "/", "http://x").pathname !== endpoint) return answer(404, { code: 404, message: "HTTP 404 Not Found" });
      if (req.method !== "POST") return answer(405, { code: 405, message: "HTTP 405 Method Not Allowed" });
      if (options.apiKey !== undefined && req.headers.authorization !== `Bearer ${options.apiKey}`) return answer(401, { code: 401, message: "Unauthorized" });
      if (!/^application\/json\b/i.test(req.headers["content-type"] ?? "")) return answer(415, { code: 415, message: "HTTP 415 Unsupported Media Type" });
      let event: unknown;
      try {
        event = JSON.parse(body);
      } catch (e) {
        refused.push({ body, errors: [`not JSON: ${(e as Error).message}`] });
        return answer(400, { code: 400, message: "Unable to process JSON" });
      }
      const result = check(event);
      if (result.errors.length > 0) {
        refused.push({ body, errors: [...result.errors] });
        return answer(400, { code: 400, errors: result.errors });
      }
      events.push({ event, facets: result.facets, headers: req.headers });
      answer(201);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    events,
    refused,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
