/**
 * How the warehouse reads a step's SQL before sending it (pure functions): named parameters
 * to positional binds, statement splitting and the first keyword, each across Snowflake's
 * strings, `$$` strings, quoted identifiers and comments.
 */
import { describe, expect, it } from "vitest";
import { bindNamed, firstKeyword, isQuery, oneStatement, splitStatements } from "./statements.js";

describe("bindNamed", () => {
  it("turns every $name into a positional bind, in order, a repeated name bound again", () => {
    expect(bindNamed("SELECT * FROM t WHERE a = $a AND b > $b OR a2 = $a", { a: "x", b: 2 }, "query")).toEqual({
      sql: "SELECT * FROM t WHERE a = ? AND b > ? OR a2 = ?",
      binds: ["x", 2, "x"],
      names: ["a", "b"],
    });
  });

  it("leaves $name inside strings, $$ strings, quoted identifiers and comments alone, and $1 and METADATA$FILENAME", () => {
    const sql = [
      "SELECT '$a', 'it''s $a', 'back\\'slash $a', $$ body $a $$, \"col $a\", $1, METADATA$FILENAME, $a",
      "-- $a in a line comment",
      "// $a in a slash comment",
      "/* $a in a block */ FROM t",
    ].join("\n");
    const bound = bindNamed(sql, { a: 1 }, "query");
    expect(bound.binds).toEqual([1]);
    expect(bound.sql).toBe(sql.replace(/METADATA\$FILENAME, \$a/, "METADATA$FILENAME, ?"));
  });

  it("names missing and unused parameters", () => {
    expect(() => bindNamed("SELECT $a, $b", { a: 1, c: 2, d: 3 }, "query")).toThrow(
      expect.objectContaining({ code: "XO_SNOWFLAKE_PARAMS_INVALID", message: expect.stringContaining("no value for $b; $c, $d are not in the statement") as string }),
    );
  });

  it("refuses a ? placeholder outside strings, but not one inside a string", () => {
    expect(() => bindNamed("SELECT * FROM t WHERE a = ?", {}, "query")).toThrow(expect.objectContaining({ code: "XO_SNOWFLAKE_PARAMS_INVALID" }));
    expect(bindNamed("SELECT 'why?' AS q", {}, "query").binds).toEqual([]);
  });

  it("refuses values Snowflake cannot bind as they are", () => {
    expect(() => bindNamed("SELECT $a", { a: Number.NaN }, "query")).toThrow(expect.objectContaining({ code: "XO_SNOWFLAKE_PARAMS_INVALID", message: expect.stringContaining("$a is NaN") as string }));
    expect(bindNamed("SELECT $a, $b, $c", { a: null, b: true, c: -1.5 }, "query").binds).toEqual([null, true, -1.5]);
  });
});

describe("splitting and keywords", () => {
  it("splits at semicolons outside strings and comments, dropping empty statements", () => {
    expect(splitStatements("INSERT INTO t VALUES (';'); -- a; comment\nUPDATE t SET a = $$x;y$$ ;; /* only; a comment */ ;")).toEqual([
      "INSERT INTO t VALUES (';')",
      "-- a; comment\nUPDATE t SET a = $$x;y$$",
    ]);
    expect(oneStatement("SELECT 1;", "query")).toBe("SELECT 1");
    expect(() => oneStatement("SELECT 1; SELECT 2", "query")).toThrow(expect.objectContaining({ code: "XO_SNOWFLAKE_SQL_INVALID" }));
  });

  it("finds the first keyword past comments and parentheses, and tells queries from changes", () => {
    expect(firstKeyword("/* c */ -- d\n ( select 1)")).toBe("SELECT");
    expect(firstKeyword("'text'")).toBe("");
    expect(isQuery("WITH x AS (SELECT 1) SELECT * FROM x")).toBe(true);
    expect(isQuery("WITH x AS (SELECT 1) SELECT 'delete' AS created_at FROM x")).toBe(true);
    expect(isQuery("DELETE FROM t")).toBe(false);
    expect(isQuery("WITH x AS (SELECT 1) DELETE FROM t")).toBe(false);
  });
});
