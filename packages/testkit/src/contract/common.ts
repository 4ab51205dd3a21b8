/** Checks and assertions every kind of plugin shares: the plugin object, schemas, errors, aborts, JSON. */
import { isDeepStrictEqual } from "node:util";
import { isXoError, PLUGIN_API_VERSION, PLUGIN_KIND, Registry, type OptionsSchema, type XoPlugin } from "@xo-foundry/core";
import { check, errorText, type ContractCheck, type Fail, type Subject } from "./check.js";

/** The key the schema checks add to an example; no plugin declares it. */
export const UNKNOWN_KEY = "xo_contract_unknown_key";

/** The plugin object is what `definePlugin` makes and what the registry accepts. */
export function pluginChecks(subject: Subject, plugin: XoPlugin): ContractCheck[] {
  return [
    check(subject, "is a plugin of this plugin API", async (fail: Fail) => {
      if (typeof plugin !== "object" || plugin === null) fail(`the factory returned ${typeof plugin}, not an object`, "return definePlugin({ name, version, ... }) from the factory");
      if (plugin.kind !== PLUGIN_KIND) fail(`its kind is ${JSON.stringify(plugin.kind)}, not ${JSON.stringify(PLUGIN_KIND)}`, "build the plugin with definePlugin() from @xo-foundry/core");
      if (plugin.apiVersion !== PLUGIN_API_VERSION) {
        fail(`its apiVersion is ${String(plugin.apiVersion)}, this core speaks ${PLUGIN_API_VERSION}`, "rebuild the plugin against this @xo-foundry/core and let definePlugin() set apiVersion");
      }
      if (typeof plugin.name !== "string" || plugin.name.trim() === "") fail("it has no name", "set `name` to the npm package name");
      if (typeof plugin.version !== "string" || !/^\d+\.\d+\.\d+/.test(plugin.version)) {
        fail(`its version ${JSON.stringify(plugin.version)} is not a semver version`, "read `version` from the package's package.json");
      }
      try {
        new Registry([plugin]);
      } catch (e) {
        fail(`the registry refuses it: ${errorText(e)}`, "fix what the registry names");
      }
    }),
    check(subject, "describes every error code it declares", async (fail: Fail) => {
      for (const [code, text] of Object.entries(plugin.errors ?? {})) {
        if (!/^[A-Z][A-Z0-9_]*$/.test(code)) fail(`error code ${JSON.stringify(code)} is not UPPER_SNAKE_CASE`, "name codes like XO_<PLUGIN>_<WHAT>");
        if (typeof text !== "string" || text.trim() === "") fail(`error code ${code} has no description`, "say what the code means and how to fix it");
      }
    }),
  ];
}

/** The component has an id and a description the CLI can show. */
export function definitionCheck(subject: Subject, definition: { readonly id?: unknown; readonly description?: unknown }, idKey = "id"): ContractCheck {
  return check(subject, "has an id and a description", async (fail: Fail) => {
    const id = (definition as Record<string, unknown>)[idKey];
    if (typeof id !== "string" || id.trim() === "" || id !== id.trim()) fail(`its ${idKey} is ${JSON.stringify(id)}`, `set \`${idKey}\` to the name users write in the config`);
    const description = definition.description;
    if (typeof description !== "string" || description.trim() === "") fail("it has no description", "set `description` to one sentence saying what it does; `xo-foundry plugins` shows it");
  });
}

/**
 * An options schema as the core uses it: a zod object, made strict (the core merges its
 * shape into the strict pipeline schema, and parses step options with `.strict()`).
 */
export function schemaChecks(subject: Subject, label: string, schema: OptionsSchema | undefined, examples: readonly object[]): ContractCheck[] {
  const strict = () => {
    if (!schema || typeof schema !== "object" || !("shape" in schema) || typeof schema.strict !== "function") return undefined;
    return schema.strict();
  };
  return [
    check(subject, `${label}: accepts the documented examples`, async (fail: Fail) => {
      const s = strict();
      if (!s) fail(`\`${label}\` is not a zod object schema`, `declare \`${label}\` as z.object({...}); the core merges its shape into the pipeline schema`);
      if (examples.length === 0) fail(`the test gave no example ${label}`, `pass the ${label} your README documents as examples, so the check can parse them`);
      examples.forEach((example, i) => {
        const result = s.safeParse(example);
        if (!result.success) {
          fail(
            `example ${i} ${JSON.stringify(example)} is refused: ${result.error.issues.map((issue) => `${issue.path.join(".") || "(root)"}: ${issue.message}`).join("; ")}`,
            `make the schema accept what the documentation shows (the core parses it strictly), or fix the example`,
          );
        }
      });
    }),
    check(subject, `${label}: refuses an unknown key`, async (fail: Fail) => {
      const s = strict();
      if (!s) fail(`\`${label}\` is not a zod object schema`, `declare \`${label}\` as z.object({...})`);
      const example = examples[0] ?? {};
      const result = s.safeParse({ ...example, [UNKNOWN_KEY]: 1 });
      if (result.success) fail(`${JSON.stringify(UNKNOWN_KEY)} was accepted`, "declare every option in the schema's shape; do not use catch-alls");
      if (!result.error.issues.some((issue) => issue.code === "unrecognized_keys" && JSON.stringify(issue).includes(UNKNOWN_KEY))) {
        fail(`the unknown key was refused, but not as an unknown key (${result.error.issues.map((i) => i.message).join("; ")})`, "keep `with:`/options a plain z.object so a typo gets a did-you-mean hint");
      }
    }),
  ];
}

/**
 * A failure as the runtime reports it: an error's `code` must start with `XO_` or be
 * listed in the plugin's `errors`, or it is flattened into XO_STEP_FAILED. With
 * `requireCode`, an error without any code fails too.
 */
export function expectDeclaredCode(fail: Fail, plugin: XoPlugin | undefined, error: unknown, what: string, requireCode = false): void {
  if (isXoError(error)) return;
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === "string" && (code.startsWith("XO_") || plugin?.errors?.[code] !== undefined)) return;
  if (typeof code === "string") {
    fail(`${what} failed with code ${code}, which the plugin does not declare (${errorText(error)})`, `list ${code} in the plugin's \`errors\` with what it means and how to fix it, or use an XO_ code`);
  }
  if (requireCode) {
    fail(
      `${what} failed without an error code (${errorText(error)}); users see XO_STEP_FAILED and no hint`,
      "throw an error with a `code` listed in the plugin's `errors` (and a `hint`), so users learn what to fix",
    );
  }
}

/** Whether `error` is the abort the test asked for: the signal's reason, an AbortError, or one caused by it. */
export function isAbortError(error: unknown, reason: unknown): boolean {
  for (let e: unknown = error, depth = 0; e !== undefined && e !== null && depth < 6; depth++) {
    if (e === reason) return true;
    const named = e as { name?: unknown; code?: unknown; cause?: unknown };
    if (named.name === "AbortError" || named.code === "ABORT_ERR") return true;
    e = named.cause;
  }
  return false;
}

/** A distinctive abort reason, so a check can tell its own abort from any other failure. */
export function abortReason(): Error {
  const reason = new Error("aborted by the xo-foundry contract test");
  reason.name = "AbortError";
  return reason;
}

export type Settled<T> = { readonly state: "resolved"; readonly value: T } | { readonly state: "rejected"; readonly error: unknown } | { readonly state: "pending" };

/** How `promise` settles within `ms`; "pending" when it does not. */
export async function settleWithin<T>(promise: Promise<T>, ms: number): Promise<Settled<T>> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<Settled<T>>((resolve) => (timer = setTimeout(() => resolve({ state: "pending" }), ms)));
  try {
    return await Promise.race([
      promise.then(
        (value): Settled<T> => ({ state: "resolved", value }),
        (error: unknown): Settled<T> => ({ state: "rejected", error }),
      ),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Why `value` is not plain JSON (a Date, a bigint, undefined, NaN, a class instance), or undefined when it is. */
export function notPlainJson(value: unknown, path = "$"): string | undefined {
  switch (typeof value) {
    case "string":
    case "boolean":
      return undefined;
    case "number":
      return Number.isFinite(value) ? undefined : `${path} is ${String(value)}, which JSON writes as null`;
    case "object": {
      if (value === null) return undefined;
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) {
          const problem = notPlainJson(value[i], `${path}[${i}]`);
          if (problem) return problem;
        }
        return undefined;
      }
      const proto: unknown = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null) {
        return `${path} is a ${(value as { constructor?: { name?: string } }).constructor?.name ?? "class instance"}, not a plain object`;
      }
      for (const [key, item] of Object.entries(value)) {
        const problem = notPlainJson(item, `${path}[${JSON.stringify(key)}]`);
        if (problem) return problem;
      }
      return undefined;
    }
    default:
      return `${path} is ${typeof value === "undefined" ? "undefined, which JSON drops" : `a ${typeof value}, which JSON cannot hold`}`;
  }
}

/** JSON with object keys sorted, so equal values compare equal as text. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

/** Records in a stable order, for comparing what came back with what went in when order is not promised. */
export function sortedRecords<T>(records: readonly T[]): T[] {
  return [...records].map((r) => [canonicalJson(r), r] as const).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, r]) => r);
}

/** The first difference between two lists of records, for a message; undefined when equal. */
export function firstDifference(actual: readonly unknown[], expected: readonly unknown[]): string | undefined {
  if (isDeepStrictEqual(actual, expected)) return undefined;
  if (actual.length !== expected.length) return `got ${actual.length} records, expected ${expected.length}`;
  const i = actual.findIndex((a, k) => !isDeepStrictEqual(a, expected[k]));
  return `record ${i} is ${truncate(JSON.stringify(actual[i]))}, expected ${truncate(JSON.stringify(expected[i]))}`;
}

export function truncate(text: string | undefined, max = 300): string {
  if (text === undefined) return "undefined";
  return text.length > max ? `${text.slice(0, max)}... (${text.length} characters)` : text;
}

/** The one component of a kind a plugin provides, or the one with `id`. */
export function pick<T extends { readonly id: string }>(plugin: XoPlugin, list: readonly T[] | undefined, kind: string, id: string | undefined): T {
  const all = list ?? [];
  const found = id === undefined ? (all.length === 1 ? all[0] : undefined) : all.find((d) => d.id === id);
  if (!found) {
    throw new Error(
      id === undefined
        ? `${plugin.name} provides ${all.length} ${kind}s (${all.map((d) => d.id).join(", ") || "none"}); name the one to check`
        : `${plugin.name} provides no ${kind} ${JSON.stringify(id)} (it has: ${all.map((d) => d.id).join(", ") || "none"})`,
    );
  }
  return found;
}
