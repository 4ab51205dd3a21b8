/**
 * The data every check kind is tried on: `CLEAN` holds for all of `CHECKS`, `DIRTY` breaks
 * each of them once, in a way the comment next to it says.
 */
import type { JsonObject } from "@xo-foundry/core";

export const CLEAN: readonly JsonObject[] = [
  { id: 1, email: "ana@example.com", status: "open", total: 10.5, created: "2026-01-14", updated_at: "2026-01-15T22:00:00Z" },
  { id: 2, email: "ben@example.com", status: "closed", total: 99.0, created: "2026-01-15", updated_at: "2026-01-15T21:30:00Z" },
  { id: 3, email: "cy@example.org", status: "open", total: 0.25, created: "2026-01-15", updated_at: "2026-01-15T08:00:00Z" },
  { id: 4, email: "dee@example.com", status: "refunded", total: 250.75, created: "2026-01-15", updated_at: "2026-01-14T23:00:00Z" },
];

export const DIRTY: readonly JsonObject[] = [
  // Two rows (row_count), id 7 twice (unique), a null email (not_null), an unknown status
  // (accepted_values), a negative total and an old date (range), a malformed email (regex),
  // a column nobody expects (schema), nothing newer than 27 h before the window's end
  // (freshness), a `lost` order and a negative total (sql).
  { id: 7, email: null, status: "lost", total: -5.5, created: "2025-12-01", updated_at: "2026-01-14T20:00:00Z", coupon: "X1" },
  { id: 7, email: "not an email", status: "open", total: 10.25, created: "2026-01-15", updated_at: "2026-01-14T21:00:00Z", coupon: null },
];

/** One check of each kind (two of range and sql: numbers and dates; rows and a count). */
export const CHECKS = [
  { row_count: { min: 3, max: 1000 } },
  { not_null: ["id", "email"] },
  { unique: ["id"] },
  { accepted_values: { column: "status", values: ["open", "closed", "refunded"] } },
  { range: { column: "total", min: 0, max: 1000 } },
  { range: { column: "created", min: "2026-01-01", max: "2026-01-31" } },
  { regex: { column: "email", pattern: "[^@\\s]+@[^@\\s]+\\.[a-z]+" } },
  { schema: { columns: { id: "integer", email: "string", status: "string", total: "number", created: "date", updated_at: "timestamp" }, allow_new: false } },
  { freshness: { column: "updated_at", max_age_hours: 6 } },
  { name: "lost_orders", sql: "select id, status from {table} where status = 'lost'" },
  { name: "negative_totals", sql: "select count(*) from {table} where total < 0" },
] as const;

/** What each of CHECKS reports on DIRTY: its name, and the failing rows where it counts them. */
export const DIRTY_FAILURES: readonly { readonly name: string; readonly failing_rows?: number; readonly detail: RegExp }[] = [
  { name: "row_count", detail: /^2 rows, fewer than 3$/ },
  { name: "not_null(id, email)", failing_rows: 1, detail: /^1 row with a null in email \(1\)$/i },
  { name: "unique(id)", failing_rows: 2, detail: /^1 value of id appears more than once, in 2 rows$/i },
  { name: "accepted_values(status)", failing_rows: 1, detail: /^1 row with status not in \["open", "closed", "refunded"\]$/i },
  { name: "range(total)", failing_rows: 1, detail: /^1 row with total not within \[0, 1000\]$/i },
  { name: "range(created)", failing_rows: 1, detail: /^1 row with created not within \[2026-01-01, 2026-01-31\]$/i },
  { name: "regex(email)", failing_rows: 1, detail: /^1 row with email not matching/i },
  { name: "schema", detail: /new, not allowed: coupon$/i },
  { name: "freshness(updated_at)", detail: /^newest updated_at is 2026-01-14.21:00:00.*, 27 h before the window's end 2026-01-16T00:00:00\+00:00, over 6 h$/i },
  { name: "lost_orders", failing_rows: 1, detail: /^the query returned 1 failing row$/ },
  { name: "negative_totals", failing_rows: 1, detail: /^the query counted 1$/ },
];
