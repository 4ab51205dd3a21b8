/** What checks run on: the rows of a stream's landed files, or of a table, behind one SQL name. */
import type { JsonObject } from "@xo-foundry/core";
import type { Dialect } from "./dialect.js";

export interface Column {
  readonly name: string;
  /** The engine's own type name (`BIGINT`, `NUMBER(38,0)`). */
  readonly type: string;
}

export type Params = Readonly<Record<string, string | number | boolean | null>>;

export interface CheckTarget {
  readonly dialect: Dialect;
  /** How reports name it: `stream orders`, `table main.orders`. */
  readonly label: string;
  /** SQL naming its rows; `{table}` in a `sql` check stands for this. */
  readonly relation: string;
  /** Its columns, in order. */
  readonly columns: readonly Column[];
  /** True when nothing landed (no file with content): there are no rows, and no columns to know. */
  readonly empty: boolean;
  /** Whether the loads' own columns (`_xo_*`) are there, which a schema check does not count as drift. */
  readonly loaded: boolean;
  query(sql: string, params?: Params): Promise<JsonObject[]>;
  close(): Promise<void>;
}
