/** The small pure parts: hashing and the diff, values as HubSpot takes them, pacing, options. */
import { describe, expect, test } from "vitest";
import { z } from "zod";
import { canonicalJson, changedRemotely, classify, removedKeys, rowHash, sameValues, type SnapshotEntry } from "./diff.js";
import { checkColumns, projectRow, propertyValue } from "./model.js";
import { syncOptions } from "./options.js";
import { requestPace } from "@xo-foundry/core";
import { hubspot } from "./index.js";

describe("the diff", () => {
  test("canonical JSON sorts keys at every depth, by code point", () => {
    expect(canonicalJson({ b: 1, a: { d: [2, { z: 1, y: null }], c: "x" }, B: true })).toBe('{"B":true,"a":{"c":"x","d":[2,{"y":null,"z":1}]},"b":1}');
  });

  test("a row's hash does not depend on column order, and does depend on values, names and the key", () => {
    const h = rowHash("email", "a@example.com", { firstname: "Ana", lastname: "Silva" });
    expect(rowHash("email", "a@example.com", { lastname: "Silva", firstname: "Ana" })).toBe(h);
    expect(h).toMatch(/^[0-9a-f]{64}$/);
    expect(rowHash("email", "a@example.com", { firstname: "Anna", lastname: "Silva" })).not.toBe(h);
    expect(rowHash("email", "a@example.com", { first_name: "Ana", lastname: "Silva" })).not.toBe(h);
    expect(rowHash("email", "b@example.com", { firstname: "Ana", lastname: "Silva" })).not.toBe(h);
    expect(rowHash("email", "a@example.com", { firstname: "Ana", lastname: null })).not.toBe(rowHash("email", "a@example.com", { firstname: "Ana", lastname: "" }));
  });

  test("new key: insert; other hash: update; same hash: unchanged; gone: removed", () => {
    const entry: SnapshotEntry = { key: "a", hash: "h1", id: "1", updatedAt: "2026-01-01T00:00:00.000Z" };
    expect(classify("h1", undefined)).toBe("insert");
    expect(classify("h2", entry)).toBe("update");
    expect(classify("h1", entry)).toBe("unchanged");
    const previous = new Map([["a", entry], ["b", { ...entry, key: "b", id: "2" }]]);
    expect(removedKeys(previous, new Set(["a", "c"]))).toEqual([{ ...entry, key: "b", id: "2" }]);
  });

  test("remote change: a later updatedAt; same values: empty equals missing, the id property ignores case", () => {
    expect(changedRemotely("2026-01-01T00:00:00.001Z", "2026-01-01T00:00:00.000Z")).toBe(true);
    expect(changedRemotely("2026-01-01T00:00:00.000Z", "2026-01-01T00:00:00.000Z")).toBe(false);
    expect(sameValues({ email: "ana@example.com", phone: null }, { email: "Ana@Example.com", phone: "" }, "email")).toBe(true);
    expect(sameValues({ email: "ana@example.com", firstname: "ana" }, { email: "ana@example.com", firstname: "Ana" }, "email")).toBe(false);
  });
});

describe("rows as HubSpot takes them", () => {
  test("every value is a string: null clears, lists are multi-select values", () => {
    expect(propertyValue(null)).toBe("");
    expect(propertyValue(12.5)).toBe("12.5");
    expect(propertyValue(false)).toBe("false");
    expect(propertyValue(["a", "b", 3])).toBe("a;b;3");
    expect(propertyValue({ x: 1 })).toBe('{"x":1}');
  });

  test("the key goes out as the id property; a key that is empty, null or an object is a problem", () => {
    const shape = { key: "id", idProperty: "external_id", source: "table t" };
    expect(projectRow({ id: 42, name: "x" }, shape)).toMatchObject({ key: "42", properties: { external_id: "42", name: "x" } });
    expect(projectRow({ id: "  ", name: "x" }, shape)).toMatchObject({ key: undefined, problem: 'the key column "id" is empty' });
    expect(projectRow({ id: { a: 1 } }, shape).problem).toBe('the key column "id" is not a string or number ({"a":1})');
    expect(() => checkColumns({ id: 1 }, { ...shape, properties: { nme: "name" } })).toThrow(/columns named in `properties` "nme" is not in the model/);
  });
});

describe("pacing", () => {
  test("request starts are 1/rate apart, and a late request does not wait", async () => {
    let now = 0;
    const next = requestPace(4, () => now);
    const signal = new AbortController().signal;
    await next(signal);
    const started = Date.now();
    await next(signal);
    expect(Date.now() - started).toBeGreaterThanOrEqual(240);
    now = 10_000;
    const late = Date.now();
    await next(signal);
    expect(Date.now() - late).toBeLessThan(50);
  });
});

describe("options", () => {
  const base = { object_type: "contacts", key: "email", id_property: "email" };
  const parse = (o: Record<string, unknown>) => syncOptions.strict().safeParse(o);

  test("defaults: 100 per batch, deletes ignored, source wins, 5 requests per second", () => {
    expect(parse({ ...base, table: "contacts" }).data).toMatchObject({
      batch_size: 100,
      deletes: "ignore",
      conflict: "source_wins",
      rate: { requests_per_second: 5 },
      max_retries: 5,
    });
  });

  test("refuses what HubSpot or the diff cannot take", () => {
    const problems = (o: Record<string, unknown>) => parse(o).error?.issues.map((i) => `${i.path.join(".")}: ${i.message}`) ?? [];
    expect(problems(base)).toEqual(["query: give exactly one of `query` and `table`"]);
    expect(problems({ ...base, table: "t", query: "select 1" })).toEqual(["query: give exactly one of `query` and `table`"]);
    expect(problems({ ...base, table: "t", batch_size: 101 })[0]).toMatch(/^batch_size: /);
    expect(problems({ ...base, table: "t; drop table x" })[0]).toMatch(/^table: a table name/);
    expect(problems({ ...base, table: "t", properties: { mail: "email" } })).toEqual(["properties: `properties` maps a column to the id_property; the `key` column is what is sent as the id_property"]);
    expect(problems({ ...base, table: "t", properties: { email: "x" } })[0]).toMatch(/names the `key` column/);
    expect(problems({ ...base, table: "t", properties: { a: "x", b: "x" } })[0]).toMatch(/two columns to one property/);
    expect(problems({ ...base, table: "t", deletes: "delete" })[0]).toMatch(/^deletes: /);
    expect(problems({ ...base, table: "t", unknown: 1 })[0]).toMatch(/Unrecognized key/);
  });

  test("every option is described, for the docs and the editor's JSON Schema", () => {
    const schema = z.toJSONSchema(syncOptions, { io: "input" }) as { properties: Record<string, { description?: string; properties?: Record<string, { description?: string }> }> };
    for (const [name, property] of Object.entries(schema.properties)) {
      expect(property.description, name).toBeTruthy();
      for (const [inner, p] of Object.entries(property.properties ?? {})) expect(p.description, `${name}.${inner}`).toBeTruthy();
    }
  });

  test("the plugin registers hubspot.sync, never skipping, with a connection and its error catalog", () => {
    const plugin = hubspot();
    expect(plugin.steps!.map((s) => [s.id, s.connection, s.canSkip])).toEqual([["hubspot.sync", "required", false]]);
    expect(Object.keys(plugin.errors!).every((code) => code.startsWith("HUBSPOT_"))).toBe(true);
    expect(plugin.steps![0]!.destination!({ options: { object_type: "contacts" }, connection: "crm" })).toBe("hubspot://crm/contacts");
  });
});
