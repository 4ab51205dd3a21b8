/**
 * An emulator of HubSpot's CRM v3 objects API, the three batch endpoints `hubspot.sync` calls,
 * served on 127.0.0.1 for tests. It keeps objects in memory and refuses what HubSpot refuses.
 *
 * Follows these published descriptions:
 * - HubSpot's OpenAPI description "CRM Objects v3" (github.com/HubSpot/HubSpot-public-api-spec-collection,
 *   `PublicApiSpecs/CRM/Objects/Rollouts/424/v3/objects.json`, read at commit 9989379): the paths
 *   `POST /crm/v3/objects/{objectType}/batch/{upsert,archive,read}`, the request schemas
 *   (BatchInputSimplePublicObjectBatchInputUpsert, BatchInputSimplePublicObjectId,
 *   BatchReadInputSimplePublicObjectId), the response schemas (BatchResponseSimplePublicUpsertObject
 *   and ...WithErrors, BatchResponseSimplePublicObject and ...WithErrors, StandardError, Error), and
 *   the statuses: upsert and read 200 or 207 "multiple statuses", archive 204 "No content".
 * - developers.hubspot.com/docs/api-reference/latest/crm/objects/.../batch/upsert: records are
 *   created or updated by a property whose values are unique for the object (`idProperty`).
 * - developers.hubspot.com/apisbytier: private apps get 100 requests per 10 seconds (Free and
 *   Starter; 150 on Professional and Enterprise), which is the default window here.
 * - HubSpot's own Node client (github.com/HubSpot/hubspot-api-nodejs, src/services/MethodPatcher.ts)
 *   and HubSpot's API usage guidelines: a rate-limited call is answered 429 with `{ status: "error",
 *   message: "You have reached your ten_secondly_rolling limit.", errorType: "RATE_LIMIT",
 *   correlationId, policyName: "TEN_SECONDLY_ROLLING", requestId }` ("secondly" for per-second
 *   limits). HubSpot's CRM guides limit batch requests to 100 inputs.
 * - HubSpot's private app guide: the access token is sent as `Authorization: Bearer <token>`; a
 *   missing or wrong token is answered 401, category INVALID_AUTHENTICATION; a token without the
 *   scope is answered 403, category MISSING_SCOPES, naming the scopes in `errors[].context`.
 *
 * Assumed where HubSpot says nothing (each one a choice a test can rely on):
 * - Property values are validated per input: an invalid email, number, date, boolean or
 *   enumeration option refuses only that input, reported in a 207 with one StandardError per
 *   input whose `context.ids` holds the input's `id` (category VALIDATION_ERROR, HubSpot's
 *   `Property values were not valid: [...]` message). `validation: "whole-batch"` answers such a
 *   batch 400 instead, as HubSpot's older batch endpoints do.
 * - A property the object type does not have refuses the whole batch (400, PROPERTY_DOESNT_EXIST):
 *   it is the request that is wrong, not one record.
 * - More than 100 inputs, duplicate ids in one batch, or inputs without `id`/`properties` refuse
 *   the whole batch with 400 VALIDATION_ERROR; the messages' wording is ours.
 * - An upsert without `idProperty` finds objects by their object id (`hs_object_id`) and refuses
 *   an id that does not exist; an `idProperty` whose values are not unique refuses the batch.
 * - Email values are stored lower-cased and matched ignoring case, as HubSpot does for contacts.
 * - An upsert that changes no value leaves `updatedAt` as it was; archived objects never match an
 *   upsert (a new object is created, as after deleting a contact in HubSpot).
 * - Archiving an id that does not exist or is already archived is accepted (204), nothing changes.
 * - The rolling window counts only requests that were let through; a 429 has no Retry-After
 *   unless a test scripts one (HubSpot documents none for the ten-secondly limit).
 * - Unknown object types are refused 400 "Unable to infer object type from: <type>".
 * - Each object type has a small part of HubSpot's default properties (BUILT_IN_SCHEMA; tests add
 *   more with `schema`); `hs_object_id`, `createdate` and `lastmodifieddate` are read-only and
 *   refused per input. `propertiesWithHistory` may be left out of a batch read.
 */
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export type PropertyType = "string" | "number" | "email" | "enumeration" | "date" | "bool";

export interface PropertySpec {
  readonly type: PropertyType;
  /** Values are unique per object: the property may be an upsert's `idProperty`. */
  readonly unique?: boolean;
  /** Allowed values of an `enumeration`. */
  readonly options?: readonly string[];
}

export interface StoredObject {
  readonly id: string;
  properties: Record<string, string>;
  createdAt: string;
  updatedAt: string;
  archived: boolean;
  archivedAt?: string;
}

export interface RecordedCall {
  readonly method: string;
  readonly path: string;
  readonly objectType?: string;
  readonly operation?: "upsert" | "archive" | "read";
  /** How many inputs the body had. */
  readonly inputs: number;
  /** The `id` of each input, in order. */
  readonly ids: readonly string[];
  readonly status: number;
  /** `Date.now()` when the request was received. */
  readonly at: number;
}

export interface ScriptedFailure {
  readonly status: number;
  /** Seconds, sent as the Retry-After header. */
  readonly retryAfter?: number;
  /** The body; a rate-limit body for 429 and an error body otherwise, by default. */
  readonly body?: unknown;
  /** Only requests of this operation are failed; any by default. */
  readonly operation?: "upsert" | "archive" | "read";
}

export interface RefusalInput {
  readonly objectType: string;
  readonly id: string;
  readonly properties: Readonly<Record<string, string>>;
}

/** A test's own rule for refusing an input: HubSpot's error code and message, or undefined to accept it. */
export type Refusal = (input: RefusalInput) => { readonly error: string; readonly message: string; readonly property: string } | undefined;

export interface HubSpotEmulatorOptions {
  /** The private app's access token the emulator accepts. */
  readonly token?: string;
  /** Scopes granted to the token; every CRM object scope by default. */
  readonly scopes?: readonly string[];
  /** Requests let through per rolling window; HubSpot's 100 per 10 seconds by default. */
  readonly rateLimit?: { readonly limit: number; readonly windowMs: number };
  /** How invalid property values are refused: per input in a 207 (default), or the whole batch 400. */
  readonly validation?: "per-input" | "whole-batch";
  /** More properties (or object types), merged over the built-in ones. */
  readonly schema?: Readonly<Record<string, Readonly<Record<string, PropertySpec>>>>;
}

export interface HubSpotEmulator {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  readonly port: number;
  readonly token: string;
  /** Every request, in the order received. */
  readonly calls: readonly RecordedCall[];
  /** The objects of a type: live ones, or also the archived ones. */
  objects(objectType: string, options?: { readonly archived?: boolean }): StoredObject[];
  /** Live objects whose `property` equals `value` (emails ignoring case). */
  find(objectType: string, property: string, value: string): StoredObject[];
  /** A change made in HubSpot by someone else: sets `properties` and moves `updatedAt` forward. */
  touch(objectType: string, id: string, properties?: Readonly<Record<string, string>>): StoredObject;
  /** Fails the next `times` matching requests as scripted (after authentication). */
  failNext(times: number, failure: ScriptedFailure): void;
  /** Adds a rule that refuses inputs, as HubSpot's own validation would. */
  refuse(rule: Refusal): void;
  /** Called once a request has been processed, before its response is sent (a test can abort the client here). */
  onProcessed(hook: ((call: RecordedCall) => void) | undefined): void;
  close(): Promise<void>;
}

/** The most inputs one batch request may carry. */
export const BATCH_LIMIT = 100;

const ALL_OBJECT_SCOPES = ["contacts", "companies", "deals", "tickets", "products", "line_items", "quotes", "custom"].flatMap((t) => [
  `crm.objects.${t}.read`,
  `crm.objects.${t}.write`,
]);

const LIFECYCLE_STAGES = ["subscriber", "lead", "marketingqualifiedlead", "salesqualifiedlead", "opportunity", "customer", "evangelist", "other"];

/** The properties each built-in object type starts with (a small part of HubSpot's defaults). */
const BUILT_IN_SCHEMA: Readonly<Record<string, Readonly<Record<string, PropertySpec>>>> = {
  contacts: {
    email: { type: "email", unique: true },
    firstname: { type: "string" },
    lastname: { type: "string" },
    company: { type: "string" },
    phone: { type: "string" },
    website: { type: "string" },
    city: { type: "string" },
    country: { type: "string" },
    jobtitle: { type: "string" },
    lifecyclestage: { type: "enumeration", options: LIFECYCLE_STAGES },
    annualrevenue: { type: "number" },
    date_of_birth: { type: "date" },
    hs_marketable_status: { type: "bool" },
  },
  companies: {
    name: { type: "string" },
    domain: { type: "string" },
    city: { type: "string" },
    industry: { type: "string" },
    numberofemployees: { type: "number" },
    lifecyclestage: { type: "enumeration", options: LIFECYCLE_STAGES },
  },
  deals: {
    dealname: { type: "string" },
    amount: { type: "number" },
    dealstage: { type: "string" },
    pipeline: { type: "string" },
    closedate: { type: "date" },
  },
  tickets: { subject: { type: "string" }, content: { type: "string" }, hs_pipeline: { type: "string" }, hs_pipeline_stage: { type: "string" } },
  products: { name: { type: "string" }, description: { type: "string" }, price: { type: "number" } },
  line_items: { name: { type: "string" }, quantity: { type: "number" }, price: { type: "number" } },
  quotes: { hs_title: { type: "string" }, hs_expiration_date: { type: "date" } },
};

/** Properties HubSpot sets itself: every object has them, none can be written. */
const READ_ONLY = new Set(["hs_object_id", "createdate", "lastmodifieddate"]);

const ROUTE = /^\/crm\/v3\/objects\/([^/]+)\/batch\/(upsert|archive|read)$/;

class Refused extends Error {
  constructor(
    readonly status: number,
    readonly body: Record<string, unknown>,
  ) {
    super(String(body.message));
  }
}

export async function startHubSpotEmulator(options: HubSpotEmulatorOptions = {}): Promise<HubSpotEmulator> {
  const token = options.token ?? "pat-na1-00000000-test-token";
  const scopes = new Set(options.scopes ?? ALL_OBJECT_SCOPES);
  const window = options.rateLimit ?? { limit: 100, windowMs: 10_000 };
  const policyName = window.windowMs === 1000 ? "SECONDLY" : window.windowMs === 10_000 ? "TEN_SECONDLY_ROLLING" : `${window.windowMs}_MS_ROLLING`;
  const schema: Record<string, Record<string, PropertySpec>> = {};
  for (const [type, props] of Object.entries({ ...BUILT_IN_SCHEMA })) schema[type] = { ...props };
  for (const [type, props] of Object.entries(options.schema ?? {})) schema[type] = { ...schema[type], ...props };

  const store = new Map<string, Map<string, StoredObject>>();
  const calls: RecordedCall[] = [];
  const admitted: number[] = [];
  const scripted: { failure: ScriptedFailure; left: number }[] = [];
  const refusals: Refusal[] = [];
  let processed: ((call: RecordedCall) => void) | undefined;
  let nextId = 1001;
  let lastTime = 0;

  /** A strictly increasing clock, so two writes in one millisecond still order. */
  const now = (): string => {
    lastTime = Math.max(Date.now(), lastTime + 1);
    return new Date(lastTime).toISOString();
  };
  const objectsOf = (type: string) => {
    let objects = store.get(type);
    if (!objects) store.set(type, (objects = new Map()));
    return objects;
  };
  const normalize = (type: string, property: string, value: string) => (schema[type]?.[property]?.type === "email" ? value.trim().toLowerCase() : value);

  function errorBody(category: string, message: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
    return { status: "error", message, correlationId: randomUUID(), category, ...extra };
  }

  function scopeFor(type: string, operation: "upsert" | "archive" | "read"): string {
    const family = BUILT_IN_SCHEMA[type] ? type : "custom";
    return `crm.objects.${family}.${operation === "read" ? "read" : "write"}`;
  }

  /** HubSpot's per-property check: undefined when the value is acceptable. */
  function invalidValue(type: string, name: string, value: string): { error: string; message: string } | undefined {
    const spec = schema[type]?.[name];
    if (!spec || value === "") return undefined;
    switch (spec.type) {
      case "string":
        return undefined;
      case "email":
        return /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(value.trim()) ? undefined : { error: "INVALID_EMAIL", message: `Email address ${value} is invalid` };
      case "number":
        return /^-?\d+(\.\d+)?$/.test(value) ? undefined : { error: "INVALID_FLOAT", message: `${value} was not a valid number.` };
      case "bool":
        return value === "true" || value === "false" ? undefined : { error: "INVALID_BOOLEAN", message: `${value} was not a valid boolean (true or false).` };
      case "date":
        return /^\d{4}-\d{2}-\d{2}$/.test(value) || /^\d+$/.test(value) ? undefined : { error: "INVALID_DATE", message: `${value} was not a valid date (YYYY-MM-DD or epoch milliseconds at midnight UTC).` };
      case "enumeration":
        return spec.options?.includes(value) ? undefined : { error: "INVALID_OPTION", message: `${value} was not one of the allowed options: [${(spec.options ?? []).join(", ")}]` };
    }
  }

  function propertyErrorMessage(problems: readonly { name: string; error: string; message: string }[]): string {
    const list = problems.map((p) => ({ isValid: false, message: p.message, error: p.error, name: p.name }));
    return `Property values were not valid: ${JSON.stringify(list)}`;
  }

  function publicObject(type: string, o: StoredObject, only?: readonly string[]): Record<string, unknown> {
    const all: Record<string, string | null> = { ...o.properties, hs_object_id: o.id, createdate: o.createdAt, lastmodifieddate: o.updatedAt };
    const properties = only ? Object.fromEntries([...new Set([...only, "hs_object_id", "createdate", "lastmodifieddate"])].map((p) => [p, all[p] ?? null])) : all;
    return { id: o.id, properties, createdAt: o.createdAt, updatedAt: o.updatedAt, archived: o.archived, ...(o.archivedAt ? { archivedAt: o.archivedAt } : {}) };
  }

  function inputsOf(body: unknown): Record<string, unknown>[] {
    const inputs = (body as { inputs?: unknown } | null)?.inputs;
    if (!Array.isArray(inputs)) throw new Refused(400, errorBody("VALIDATION_ERROR", "Invalid input JSON: `inputs` is required and must be an array"));
    if (inputs.length > BATCH_LIMIT) {
      throw new Refused(400, errorBody("VALIDATION_ERROR", `The maximum number of inputs supported in a batch request is ${BATCH_LIMIT}. Please reduce the number of items and try again. Found ${inputs.length}.`));
    }
    if (inputs.some((i) => typeof i !== "object" || i === null || typeof (i as { id?: unknown }).id !== "string" || (i as { id: string }).id === "")) {
      throw new Refused(400, errorBody("VALIDATION_ERROR", "Some required fields were not set: [id]"));
    }
    return inputs as Record<string, unknown>[];
  }

  function upsert(type: string, body: unknown): { status: number; body: unknown } {
    const started = new Date().toISOString();
    const inputs = inputsOf(body);
    const properties = schema[type]!;
    const seen = new Set<string>();
    const duplicates: string[] = [];
    for (const input of inputs) {
      const props = input.properties;
      if (typeof props !== "object" || props === null || Array.isArray(props)) throw new Refused(400, errorBody("VALIDATION_ERROR", "Some required fields were not set: [properties]"));
      for (const [name, value] of Object.entries(props)) {
        if (typeof value === "object" && value !== null) throw new Refused(400, errorBody("VALIDATION_ERROR", `Invalid input JSON: property ${name} must be a string`));
        if (!properties[name] && !READ_ONLY.has(name)) {
          const message = propertyErrorMessage([{ name, error: "PROPERTY_DOESNT_EXIST", message: `Property "${name}" does not exist` }]);
          throw new Refused(400, errorBody("VALIDATION_ERROR", message, { errors: [{ message: `Property "${name}" does not exist`, code: "PROPERTY_DOESNT_EXIST", in: name }] }));
        }
      }
      const idProperty = typeof input.idProperty === "string" ? input.idProperty : "hs_object_id";
      if (idProperty !== "hs_object_id" && !properties[idProperty]?.unique) {
        throw new Refused(400, errorBody("VALIDATION_ERROR", `Property ${idProperty} is not a unique identifier property for ${type}; only properties with unique values can be the idProperty`));
      }
      const id = normalize(type, idProperty, input.id as string);
      const dedupe = `${idProperty}\u0000${id}`;
      if (seen.has(dedupe)) duplicates.push(input.id as string);
      seen.add(dedupe);
    }
    if (duplicates.length > 0) throw new Refused(400, errorBody("VALIDATION_ERROR", `Duplicate IDs found in batch input: [${duplicates.join(", ")}]. IDs must be unique`));

    const objects = objectsOf(type);
    const results: Record<string, unknown>[] = [];
    const errors: Record<string, unknown>[] = [];
    const refusedInputs: { id: string; problems: { name: string; error: string; message: string }[] }[] = [];
    const planned: { input: Record<string, unknown>; idProperty: string; props: Record<string, string> }[] = [];
    for (const input of inputs) {
      const idProperty = typeof input.idProperty === "string" ? input.idProperty : "hs_object_id";
      const props = Object.fromEntries(Object.entries(input.properties as Record<string, unknown>).map(([k, v]) => [k, v === null ? "" : String(v)]));
      const problems: { name: string; error: string; message: string }[] = [];
      for (const [name, value] of Object.entries(props)) {
        if (READ_ONLY.has(name)) problems.push({ name, error: "READ_ONLY_VALUE", message: `${name} is a read only property; its value cannot be set.` });
        const bad = invalidValue(type, name, value);
        if (bad) problems.push({ name, ...bad });
      }
      if (idProperty !== "hs_object_id") {
        const bad = invalidValue(type, idProperty, input.id as string);
        if (bad && !problems.some((p) => p.name === idProperty)) problems.push({ name: idProperty, ...bad });
      }
      for (const rule of refusals) {
        const refusal = rule({ objectType: type, id: input.id as string, properties: props });
        if (refusal) problems.push({ name: refusal.property, error: refusal.error, message: refusal.message });
      }
      if (problems.length > 0) refusedInputs.push({ id: input.id as string, problems });
      else planned.push({ input, idProperty, props });
    }
    if (refusedInputs.length > 0 && options.validation === "whole-batch") {
      const problems = refusedInputs.flatMap((r) => r.problems);
      throw new Refused(400, errorBody("VALIDATION_ERROR", propertyErrorMessage(problems), { errors: problems.map((p) => ({ message: p.message, code: p.error, in: p.name })) }));
    }
    for (const r of refusedInputs) {
      errors.push({
        status: "error",
        category: "VALIDATION_ERROR",
        message: propertyErrorMessage(r.problems),
        context: { ids: [r.id] },
        errors: r.problems.map((p) => ({ message: p.message, code: p.error, in: p.name })),
        links: {},
      });
    }
    for (const { input, idProperty, props } of planned) {
      const id = input.id as string;
      let existing: StoredObject | undefined;
      if (idProperty === "hs_object_id") {
        existing = objects.get(id);
        if (!existing || existing.archived) {
          errors.push({ status: "error", category: "OBJECT_NOT_FOUND", message: `Object with id ${id} not found`, context: { ids: [id] }, errors: [], links: {} });
          continue;
        }
      } else {
        const wanted = normalize(type, idProperty, id);
        existing = [...objects.values()].find((o) => !o.archived && o.properties[idProperty] !== undefined && normalize(type, idProperty, o.properties[idProperty]) === wanted);
      }
      const values = Object.fromEntries(Object.entries(props).map(([k, v]) => [k, normalize(type, k, v)]));
      if (idProperty !== "hs_object_id") values[idProperty] = normalize(type, idProperty, id);
      if (existing) {
        const changed = Object.entries(values).some(([k, v]) => existing.properties[k] !== v);
        Object.assign(existing.properties, values);
        if (changed) existing.updatedAt = now();
        results.push({ ...publicObject(type, existing), new: false });
      } else {
        const at = now();
        const created: StoredObject = { id: String(nextId++), properties: values, createdAt: at, updatedAt: at, archived: false };
        objects.set(created.id, created);
        results.push({ ...publicObject(type, created), new: true });
      }
    }
    const response = { status: "COMPLETE", results, startedAt: started, completedAt: new Date().toISOString(), requestedAt: started };
    return errors.length > 0 ? { status: 207, body: { ...response, numErrors: errors.length, errors } } : { status: 200, body: response };
  }

  function archive(type: string, body: unknown): { status: number; body: unknown } {
    const objects = objectsOf(type);
    for (const input of inputsOf(body)) {
      const o = objects.get(input.id as string);
      if (o && !o.archived) {
        o.archived = true;
        o.archivedAt = now();
      }
    }
    return { status: 204, body: undefined };
  }

  function read(type: string, body: unknown, archived: boolean): { status: number; body: unknown } {
    const started = new Date().toISOString();
    const inputs = inputsOf(body);
    const request = body as { properties?: unknown; idProperty?: unknown };
    const wanted = Array.isArray(request.properties) ? request.properties.filter((p): p is string => typeof p === "string") : [];
    const idProperty = typeof request.idProperty === "string" ? request.idProperty : undefined;
    if (idProperty !== undefined && !schema[type]![idProperty]?.unique) {
      throw new Refused(400, errorBody("VALIDATION_ERROR", `Property ${idProperty} is not a unique identifier property for ${type}`));
    }
    const objects = [...objectsOf(type).values()].filter((o) => o.archived === archived);
    const results: Record<string, unknown>[] = [];
    const missing: string[] = [];
    for (const input of inputs) {
      const id = input.id as string;
      const found =
        idProperty === undefined
          ? objects.find((o) => o.id === id)
          : objects.find((o) => o.properties[idProperty] !== undefined && normalize(type, idProperty, o.properties[idProperty]) === normalize(type, idProperty, id));
      if (found) results.push(publicObject(type, found, wanted));
      else missing.push(id);
    }
    const response = { status: "COMPLETE", results, startedAt: started, completedAt: new Date().toISOString(), requestedAt: started };
    if (missing.length === 0) return { status: 200, body: response };
    const error = {
      status: "error",
      category: "OBJECT_NOT_FOUND",
      message: `Could not get some ${type.toUpperCase()} objects, they may be deleted or not exist. Check that ids are valid.`,
      context: { ids: missing },
      errors: [],
      links: {},
    };
    return { status: 207, body: { ...response, numErrors: 1, errors: [error] } };
  }

  function rateLimited(): boolean {
    const t = Date.now();
    while (admitted.length > 0 && admitted[0]! <= t - window.windowMs) admitted.shift();
    if (admitted.length >= window.limit) return true;
    admitted.push(t);
    return false;
  }

  function rateLimitBody(): Record<string, unknown> {
    return {
      status: "error",
      message: `You have reached your ${policyName.toLowerCase()} limit.`,
      errorType: "RATE_LIMIT",
      correlationId: randomUUID(),
      policyName,
      requestId: randomUUID(),
    };
  }

  async function handle(req: IncomingMessage): Promise<{ status: number; body: unknown; headers?: Record<string, string>; call: Omit<RecordedCall, "status"> }> {
    const at = Date.now();
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const text = await readBody(req);
    const route = ROUTE.exec(url.pathname);
    const objectType = route ? decodeURIComponent(route[1]!) : undefined;
    const operation = route?.[2] as "upsert" | "archive" | "read" | undefined;
    let body: unknown;
    let parseError: string | undefined;
    try {
      body = text === "" ? undefined : JSON.parse(text);
    } catch (e) {
      parseError = (e as Error).message;
    }
    const list = (body as { inputs?: unknown } | undefined)?.inputs;
    const ids = Array.isArray(list) ? list.map((i) => String((i as { id?: unknown } | null)?.id ?? "")) : [];
    const call = { method: req.method ?? "", path: url.pathname, inputs: ids.length, ids, at, ...(objectType ? { objectType } : {}), ...(operation ? { operation } : {}) };

    const auth = req.headers.authorization;
    if (auth !== `Bearer ${token}`) {
      return {
        status: 401,
        call,
        body: errorBody(
          "INVALID_AUTHENTICATION",
          "Authentication credentials not found. This API supports OAuth 2.0 authentication and you can find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview",
        ),
      };
    }
    if (rateLimited()) return { status: 429, call, body: rateLimitBody() };
    const script = scripted.find((s) => s.left > 0 && (s.failure.operation === undefined || s.failure.operation === operation));
    if (script) {
      script.left--;
      const { status, retryAfter, body: scriptedBody } = script.failure;
      const fallback = status === 429 ? rateLimitBody() : errorBody(status >= 500 ? "INTERNAL_ERROR" : "VALIDATION_ERROR", `Scripted failure ${status}`);
      return { status, call, body: scriptedBody ?? fallback, ...(retryAfter !== undefined ? { headers: { "Retry-After": String(retryAfter) } } : {}) };
    }
    if (!route || !objectType || !operation) return { status: 404, call, body: errorBody("OBJECT_NOT_FOUND", `No route for ${req.method} ${url.pathname}`) };
    if (req.method !== "POST") return { status: 405, call, body: errorBody("VALIDATION_ERROR", `HTTP method ${req.method} is not supported by this resource`) };
    if (!schema[objectType]) return { status: 400, call, body: errorBody("VALIDATION_ERROR", `Unable to infer object type from: ${objectType}`) };
    const scope = scopeFor(objectType, operation);
    if (!scopes.has(scope)) {
      return {
        status: 403,
        call,
        body: errorBody("MISSING_SCOPES", "This app hasn't been granted all required scopes to make this call. Read more about required scopes here: https://developers.hubspot.com/scopes.", {
          errors: [{ message: "One or more of the following scopes are required.", context: { requiredGranularScopes: [scope] } }],
          links: { scopes: "https://developers.hubspot.com/scopes" },
        }),
      };
    }
    if (parseError !== undefined || body === undefined) {
      return { status: 400, call, body: errorBody("VALIDATION_ERROR", `Invalid input JSON on line 1: ${parseError ?? "no body"}`) };
    }
    try {
      switch (operation) {
        case "upsert":
          return { ...upsert(objectType, body), call };
        case "archive":
          return { ...archive(objectType, body), call };
        case "read":
          return { ...read(objectType, body, url.searchParams.get("archived") === "true"), call };
      }
    } catch (e) {
      if (e instanceof Refused) return { status: e.status, body: e.body, call };
      throw e;
    }
  }

  const server = createServer((req, res) => {
    handle(req).then(
      (answer) => {
        const call: RecordedCall = { ...answer.call, status: answer.status };
        calls.push(call);
        processed?.(call);
        respond(res, answer.status, answer.body, answer.headers);
      },
      (e: unknown) => respond(res, 500, { status: "error", message: `emulator failure: ${String(e)}`, correlationId: randomUUID(), category: "INTERNAL_ERROR" }),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    token,
    calls,
    objects: (type, o = {}) => [...objectsOf(type).values()].filter((obj) => o.archived || !obj.archived),
    find: (type, property, value) =>
      [...objectsOf(type).values()].filter((o) => !o.archived && o.properties[property] !== undefined && normalize(type, property, o.properties[property]) === normalize(type, property, value)),
    touch(type, id, properties = {}) {
      const o = objectsOf(type).get(id);
      if (!o) throw new Error(`no ${type} object ${id}`);
      Object.assign(o.properties, properties);
      o.updatedAt = now();
      return o;
    },
    failNext: (times, failure) => void scripted.push({ failure, left: times }),
    refuse: (rule) => void refusals.push(rule),
    onProcessed: (hook) => void (processed = hook),
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((e) => (e ? reject(e) : resolve()));
      }),
  };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

function respond(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.destroyed) return;
  if (body === undefined) {
    res.writeHead(status, headers).end();
    return;
  }
  res.writeHead(status, { "Content-Type": "application/json;charset=utf-8", ...headers }).end(JSON.stringify(body));
}
