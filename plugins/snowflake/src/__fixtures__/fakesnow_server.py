"""A long-lived fakesnow session for stateful_snowflake.ts: Snowflake's SQL dialect executed by DuckDB.

Real: snowflake-connector-python's cursor API (qmark binds) and fakesnow's translation of each
statement to DuckDB. The Node server in stateful_snowflake.ts sends here every statement fakesnow
can run, and emulates the rest (stages, COPY, INFER_SCHEMA, SWAP, session settings) with statements
it sends here too.

stdin:  one JSON object per line: {"sql": str, "binds": [value | {"type", "value"}] | null}
        A bind given as {"type", "value"} is one the client sent (snowflake-sdk's FIXED, REAL,
        BOOLEAN, TEXT, ...) and is converted the way Snowflake reads that type.
stdout: one JSON object per line: {"columns": [str], "types": [{"type", "precision", "scale"}], "rows": [[str | null]]}
        or {"error": {"code", "message"}}
Values are encoded as Snowflake encodes them in a JSON result set (what snowflake-sdk decodes):
  fixed/real as text; boolean "true"/"false"; date as days since 1970-01-01; time as seconds
  since midnight with 9 fraction digits; timestamp_ntz/ltz as seconds since the epoch with 9
  fraction digits; timestamp_tz as those seconds, a space, and the UTC offset in minutes + 1440;
  variant/object/array as their JSON text; binary as upper-case hex. NULL stays null. `types`
  names each column's type as the result's rowtype does, from cursor.description.
Database RAW with schema GLADLY exists from the start; others may be created by statements.
"""
import datetime
import decimal
import json
import sys

import fakesnow
import snowflake.connector
from fakesnow.converter import from_binding

EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)

# snowflake-connector-python's FIELD_TYPES codes (cursor.description's type_code) -> rowtype names.
ROWTYPES = {
    0: "fixed",
    1: "real",
    2: "text",
    3: "date",
    4: "timestamp_ntz",
    5: "variant",
    6: "timestamp_ltz",
    7: "timestamp_tz",
    8: "timestamp_ntz",
    9: "object",
    10: "array",
    11: "binary",
    12: "time",
    13: "boolean",
}
TIMESTAMPS = {"timestamp_ntz", "timestamp_ltz", "timestamp_tz"}


def seconds(delta):
    """A timedelta as seconds with 9 fraction digits, floored like Snowflake's epoch values."""
    micros = (delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds
    whole, frac = divmod(micros, 1_000_000)
    return f"{whole}.{frac * 1000:09d}"


def encode(value, kind):
    if value is None:
        return None
    if kind == "boolean" or isinstance(value, bool):
        return "true" if value else "false"
    if kind == "date" and isinstance(value, datetime.date):
        return str((value - datetime.date(1970, 1, 1)).days)
    if kind == "time" and isinstance(value, datetime.time):
        return seconds(datetime.timedelta(hours=value.hour, minutes=value.minute, seconds=value.second, microseconds=value.microsecond))
    if kind in TIMESTAMPS and isinstance(value, datetime.datetime):
        if value.tzinfo is None:
            # NTZ: the wall clock, counted as if it were UTC.
            return seconds(value.replace(tzinfo=datetime.timezone.utc) - EPOCH)
        epoch = seconds(value - EPOCH)
        if kind == "timestamp_tz":
            offset = int(value.utcoffset().total_seconds() // 60)
            return f"{epoch} {offset + 1440}"
        return epoch
    if kind == "binary" and isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).hex().upper()
    if isinstance(value, decimal.Decimal):
        return format(value, "f")
    if kind in ("variant", "object", "array") and not isinstance(value, str):
        return json.dumps(value)
    return str(value)


def rowtype(column):
    kind = ROWTYPES.get(column.type_code, "text")
    if kind == "fixed":
        return {"type": kind, "precision": column.precision, "scale": column.scale}
    if kind in TIMESTAMPS or kind == "time":
        return {"type": kind, "precision": 0, "scale": 9}
    return {"type": kind, "precision": None, "scale": None}


def bind(value):
    if not isinstance(value, dict):
        return value
    if value["value"] is None:
        return None
    if value["type"] == "REAL":
        return float(value["value"])
    return from_binding(value)


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
                binds = [bind(b) for b in req["binds"]] if req.get("binds") else None
                cur.execute(req["sql"], binds)
                if cur.description:
                    columns = [d[0] for d in cur.description]
                    types = [rowtype(d) for d in cur.description]
                    kinds = [t["type"] for t in types]
                    try:
                        rows = [[encode(v, kinds[i]) for i, v in enumerate(r)] for r in cur.fetchall()]
                    except Exception:  # statements without a result set
                        columns, types, rows = ["status"], [{"type": "text", "precision": None, "scale": None}], [["Statement executed successfully."]]
                else:
                    columns, types, rows = ["status"], [{"type": "text", "precision": None, "scale": None}], [["Statement executed successfully."]]
                reply = {"columns": columns, "types": types, "rows": rows}
            except Exception as e:  # the error goes back to the client as Snowflake's would
                errno = getattr(e, "errno", None)
                code = f"{errno:06d}" if isinstance(errno, int) and errno > 0 else "002003"
                reply = {"error": {"code": code, "message": f"{type(e).__name__}: {e}"}}
            out.write(json.dumps(reply, default=str) + "\n")
            out.flush()


if __name__ == "__main__":
    main()
