"""Replays planned Snowflake statements on fakesnow (Snowflake's SQL dialect, executed by DuckDB).

Real: snowflake-connector-python's cursor API and fakesnow's translation of each statement to DuckDB.
Emulated, because fakesnow has no stages, files or INFER_SCHEMA:
  - create_staging with USING TEMPLATE: the test's `staging_ddl` (the columns INFER_SCHEMA would infer);
  - copy: INSERT of the test's file rows, with _XO_SOURCE_FILE / _XO_SOURCE_ROW filled as COPY's
    INCLUDE_METADATA would (METADATA$FILENAME, METADATA$FILE_ROW_NUMBER, 1-based);
  - swap: fakesnow cannot parse ALTER TABLE ... SWAP WITH; done as three renames.
Skipped (no effect on table contents; fakesnow rejects or cannot honour them):
  query_tag, file_format, create_stage, put, drop_stage.

stdin: {"database", "schema", "target", "setup": [sql], "loads": [{"statements": [{step, sql, binds}],
        "staging_ddl": sql, "files": [{"name", "rows": [{col: value}]}]}]}
stdout: {"loads": [{"steps": [{"step", "how", "result"?}]}], "target": [row objects]}
"""
import json
import re
import sys

import fakesnow
import snowflake.connector

SKIPPED = {"query_tag", "file_format", "create_stage", "put", "drop_stage"}


def quote(name):
    return '"' + name.upper().replace('"', '""') + '"'


def main():
    spec = json.load(sys.stdin)
    out = {"loads": []}
    with fakesnow.patch():
        conn = snowflake.connector.connect(paramstyle="qmark")
        cur = conn.cursor()
        cur.execute(f"CREATE DATABASE IF NOT EXISTS {quote(spec['database'])}")
        cur.execute(f"CREATE SCHEMA IF NOT EXISTS {quote(spec['database'])}.{quote(spec['schema'])}")
        for sql in spec.get("setup", []):
            cur.execute(sql)
        for load in spec["loads"]:
            steps = []
            staging = None
            for st in load["statements"]:
                step, sql, binds = st["step"], st["sql"], st["binds"] or None
                entry = {"step": step, "how": "ran"}
                try:
                    if step in SKIPPED:
                        entry["how"] = "skipped"
                    elif step == "create_staging":
                        staging = re.match(r"CREATE OR REPLACE (?:TRANSIENT )?TABLE (\S+) ", sql).group(1)
                        if " USING TEMPLATE " in sql:
                            entry["how"] = "emulated"
                            cur.execute(load["staging_ddl"])
                        else:
                            cur.execute(sql)
                    elif step == "copy":
                        entry["how"] = "emulated"
                        for f in load["files"]:
                            for i, row in enumerate(f["rows"], start=1):
                                cols = list(row) + ["_XO_SOURCE_FILE", "_XO_SOURCE_ROW"]
                                vals = list(row.values()) + [f["name"], i]
                                cur.execute(
                                    f"INSERT INTO {staging} ({', '.join(quote(c) for c in cols)}) VALUES ({', '.join('?' for _ in cols)})",
                                    vals,
                                )
                    elif step == "swap":
                        entry["how"] = "emulated"
                        m = re.match(r'ALTER TABLE (\S+) SWAP WITH (\S+)$', sql)
                        a, b = m.group(1), m.group(2)
                        short = lambda q: q.split(".")[-1]
                        cur.execute(f'ALTER TABLE {a} RENAME TO "XO_SWAP_TMP"')
                        cur.execute(f"ALTER TABLE {b} RENAME TO {short(a)}")
                        prefix = a.rsplit(".", 1)[0]
                        cur.execute(f'ALTER TABLE {prefix}."XO_SWAP_TMP" RENAME TO {short(b)}')
                    else:
                        cur.execute(sql, binds)
                        if step == "columns":
                            entry["result"] = [r[0] for r in cur.fetchall()]
                except Exception as e:  # report which statement failed, then stop like the loader would
                    entry["error"] = f"{type(e).__name__}: {e}"
                    steps.append(entry)
                    out["loads"].append({"steps": steps})
                    print(json.dumps(out, default=str))
                    return
                steps.append(entry)
            out["loads"].append({"steps": steps})
        cur.execute(f"SELECT * FROM {spec['target']}")
        names = [d[0] for d in cur.description]
        out["target"] = [dict(zip(names, r)) for r in cur.fetchall()]
    print(json.dumps(out, default=str))


if __name__ == "__main__":
    main()
