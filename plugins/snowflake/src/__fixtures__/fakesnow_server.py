"""A long-lived fakesnow session for stateful_snowflake.ts: Snowflake's SQL dialect executed by DuckDB.

Real: snowflake-connector-python's cursor API (qmark binds) and fakesnow's translation of each
statement to DuckDB. The Node server in stateful_snowflake.ts sends here every statement fakesnow
can run, and emulates the rest (stages, COPY, INFER_SCHEMA, SWAP, session settings) with statements
it sends here too.

stdin:  one JSON object per line: {"sql": str, "binds": [values] | null}
stdout: one JSON object per line: {"columns": [str], "types": [{"type", "precision", "scale"}], "rows": [[str | null]]}
        or {"error": {"code", "message"}}
Values are returned as text (the JSON result-set wire format); NULL stays null. `types` names each
column's type as a JSON result set's rowtype does (fixed, real, boolean, text); other types are
reported as text, with their values as text.
Database RAW with schema GLADLY exists from the start; others may be created by statements.
"""
import json
import sys

import fakesnow
import snowflake.connector


def text(value):
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


# snowflake-connector-python's FIELD_TYPES codes (cursor.description's type_code) -> rowtype names.
ROWTYPES = {0: "fixed", 1: "real", 2: "text", 13: "boolean"}


def rowtype(column):
    kind = ROWTYPES.get(column.type_code, "text")
    return {"type": kind, "precision": column.precision if kind == "fixed" else None, "scale": column.scale if kind == "fixed" else None}


def main():
    out = sys.stdout
    with fakesnow.patch():
        conn = snowflake.connector.connect(paramstyle="qmark")
        cur = conn.cursor()
        cur.execute('CREATE DATABASE IF NOT EXISTS "RAW"')
        cur.execute('CREATE SCHEMA IF NOT EXISTS "RAW"."GLADLY"')
        out.write(json.dumps({"ready": True}) + "\n")
        out.flush()
        for line in sys.stdin:
            if not line.strip():
                continue
            req = json.loads(line)
            try:
                binds = req.get("binds") or None
                cur.execute(req["sql"], binds)
                columns = [d[0] for d in cur.description] if cur.description else ["status"]
                types = [rowtype(d) for d in cur.description] if cur.description else [{"type": "text", "precision": None, "scale": None}]
                try:
                    rows = [[text(v) for v in r] for r in cur.fetchall()] if cur.description else [["Statement executed successfully."]]
                except Exception:  # statements without a result set
                    rows = [["Statement executed successfully."]]
                reply = {"columns": columns, "types": types, "rows": rows}
            except Exception as e:  # the error goes back to the client as Snowflake's would
                code = str(getattr(e, "errno", "") or "002003")
                reply = {"error": {"code": code, "message": f"{type(e).__name__}: {e}"}}
            out.write(json.dumps(reply, default=str) + "\n")
            out.flush()


if __name__ == "__main__":
    main()
