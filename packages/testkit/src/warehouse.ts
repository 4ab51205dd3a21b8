import type { JsonObject, Warehouse } from "@xo-foundry/core";

export interface ScriptedWarehouse extends Warehouse {
  /** What the warehouse was asked, in order: `query <sql>`, `execute <sql>; <sql>`, `export <sql>`, `describe <table>`. */
  readonly calls: string[];
}

export interface ScriptedWarehouseInput {
  /** The rows `query` answers, or a function of the SQL; none by default. */
  readonly rows?: readonly JsonObject[] | ((sql: string) => readonly JsonObject[]);
  readonly dialect?: string;
  /**
   * The run's signal, as the runtime binds a sink's warehouse to it: once aborted, every
   * call rejects with the signal's reason, as a real warehouse's interrupted statement does.
   */
  readonly signal?: AbortSignal;
}

/** A warehouse that records what steps ask and answers from a script, for step tests without a database. */
export function scriptedWarehouse(input: ScriptedWarehouseInput = {}): ScriptedWarehouse {
  const calls: string[] = [];
  const answer = (sql: string) => (typeof input.rows === "function" ? input.rows(sql) : (input.rows ?? []));
  const call = async <T>(line: string, result: () => T): Promise<T> => {
    input.signal?.throwIfAborted();
    calls.push(line);
    // A real warehouse answers later; an abort in between still wins.
    await new Promise((resolve) => setImmediate(resolve));
    input.signal?.throwIfAborted();
    return result();
  };
  return {
    calls,
    dialect: input.dialect ?? "scripted",
    query: (sql) => call(`query ${sql}`, () => answer(sql)),
    execute: (statements) => call(`execute ${statements.join("; ")}`, () => undefined),
    exportQuery: (sql) => call(`export ${sql}`, () => []),
    describe: (table) => call(`describe ${table}`, () => undefined),
  };
}
