/** The small pure parts: type families, timestamps of freshness, table names per dialect, secret-looking values. */
import { describe, expect, it } from "vitest";
import { dialectOf, snowflakeDialect, tableParts } from "./dialect.js";
import { familyOf, satisfies } from "./families.js";
import { looksSecret, protectValue, secretColumn } from "./samples.js";
import { instantOf } from "./time.js";

describe("familyOf", () => {
  it.each([
    ["VARCHAR", "string"],
    ["VARCHAR(16777216)", "string"],
    ["TEXT", "string"],
    ["UUID", "string"],
    ["ENUM('a', 'b')", "string"],
    ["BIGINT", "integer"],
    ["HUGEINT", "integer"],
    ["NUMBER(38,0)", "integer"],
    ["NUMBER", "integer"],
    ["DECIMAL(10)", "integer"],
    ["NUMBER(10,2)", "number"],
    ["DECIMAL(18,3)", "number"],
    ["DOUBLE", "number"],
    ["FLOAT", "number"],
    ["BOOLEAN", "boolean"],
    ["DATE", "date"],
    ["TIMESTAMP", "timestamp"],
    ["TIMESTAMP WITH TIME ZONE", "timestamp"],
    ["TIMESTAMP_NTZ", "timestamp"],
    ["TIMESTAMP_TZ", "timestamp"],
    ["TIMESTAMP_NS", "timestamp"],
    ["JSON", "json"],
    ["VARIANT", "json"],
    ["STRUCT(a INTEGER, b VARCHAR)", "json"],
    ["INTEGER[]", "json"],
    ["MAP(VARCHAR, INTEGER)", "json"],
    ["TIME", "other"],
    ["BLOB", "other"],
    ["BINARY", "other"],
  ])("%s is %s", (type, family) => {
    expect(familyOf(type)).toBe(family);
  });

  it("lets `number` take whole numbers and `any` take anything, nothing else", () => {
    expect(satisfies("number", "integer")).toBe(true);
    expect(satisfies("integer", "number")).toBe(false);
    expect(satisfies("any", "other")).toBe(true);
    expect(satisfies("timestamp", "date")).toBe(false);
  });
});

describe("instantOf", () => {
  it("reads offsets, UTC for times without one, and dates as their day's start in the pipeline's zone", () => {
    expect(instantOf("2026-01-15T10:00:00Z", "UTC")).toBe(Date.parse("2026-01-15T10:00:00Z"));
    expect(instantOf("2026-01-15 10:00:00+02", "UTC")).toBe(Date.parse("2026-01-15T08:00:00Z"));
    expect(instantOf("2026-01-15T10:00:00.123456-0530", "UTC")).toBe(Date.parse("2026-01-15T15:30:00.123Z"));
    expect(instantOf("2026-01-15T10:00:00.5", "America/New_York")).toBe(Date.parse("2026-01-15T10:00:00.500Z"));
    expect(instantOf("2026-01-15", "America/New_York")).toBe(Date.parse("2026-01-15T05:00:00Z"));
    expect(instantOf("2026-02-30", "UTC")).toBeUndefined();
    expect(instantOf("yesterday", "UTC")).toBeUndefined();
  });
});

describe("table names", () => {
  it("splits bare and quoted parts", () => {
    expect(tableParts('analytics."Daily ""Orders"""')).toEqual([
      { name: "analytics", quoted: false },
      { name: 'Daily "Orders"', quoted: true },
    ]);
    expect(tableParts("a.b.c.d")).toBeUndefined();
    expect(tableParts("a..b")).toBeUndefined();
    expect(tableParts('"unclosed')).toBeUndefined();
  });

  it("upper-cases bare parts for Snowflake only, and quotes every part", () => {
    expect(snowflakeDialect.relation('analytics.daily_orders')).toBe('"ANALYTICS"."DAILY_ORDERS"');
    expect(snowflakeDialect.relation('RAW."MixedCase"')).toBe('"RAW"."MixedCase"');
    expect(dialectOf("duckdb").relation("main.orders")).toBe('"main"."orders"');
    expect(dialectOf("duckdb").ident('a"b')).toBe('"a""b"');
    expect(() => dialectOf("duckdb").relation("a b")).toThrow(/is not a table name/);
    expect(dialectOf("postgres").fullMatch("x", "$p")).toBeUndefined();
  });
});

describe("secret-looking values", () => {
  it.each([
    "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl",
    "AKIAIOSFODNN7EXAMPLE",
    "sk_live_51HxYzAbCdEfGhIjKl",
    "ghp_abcdefghijklmnopqrstuvwxyz0123456789",
    "xoxb-123456789012-abcdefghijkl",
    "pat-na1-11111111-2222-3333-4444-555555555555",
    "Bearer abc.def.ghi-jkl",
    "postgres://app:hunter2@db.internal/prod",
    "-----BEGIN RSA PRIVATE KEY-----\nMIIE",
    "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
    "Zx8kQ2mN7pR4tV1wY6bC3dF9gH5jL0sA",
  ])("%s is masked", (value) => {
    expect(looksSecret(value)).toBe(true);
    expect(protectValue("note", value)).toBe("***");
  });

  it.each(["ana@example.com", "2026-01-15T10:00:00Z", "123e4567-e89b-12d3-a456-426614174000", "order 4711 shipped to Lisbon", "https://example.com/a/b?c=d"])(
    "%s is shown",
    (value) => {
      expect(looksSecret(value)).toBe(false);
      expect(protectValue("note", value)).toBe(value);
    },
  );

  it("masks whole columns whose names say they hold credentials, not their look-alikes", () => {
    for (const name of ["password", "userPassword", "api_key", "apiKey", "auth", "x_auth_token", "client_secret", "card_number", "SSN"]) expect(secretColumn(name), name).toBe(true);
    for (const name of ["author", "passenger", "status", "email", "pinned_at"]) expect(secretColumn(name), name).toBe(false);
    expect(protectValue("password", 1234)).toBe("***");
    expect(protectValue("amount", 12.5)).toBe(12.5);
    expect(protectValue("tags", ["a", "b"])).toBe('["a","b"]');
  });
});
