"""Parses Snowflake statements with sqlglot's Snowflake dialect: an independent grammar of the SQL
Snowflake accepts, so a statement Snowflake would reject fails a test although no Snowflake is
reachable. sqlglot is pinned in tools/services/requirements.in (the same release fakesnow uses).

A statement passes when sqlglot parses it, strictly (ErrorLevel.RAISE: every token consumed), into
exactly one expression of a known kind. sqlglot turns statements it has no grammar for into an
opaque `Command` (it logs a warning and keeps the raw text); that proves nothing, so it fails here.
The kind (e.g. "Merge", "Create FILE FORMAT", "Alter TABLE SwapTable") is returned so the test can
check that each statement parsed as what its step means, not as something else that happens to parse.

stdin:  JSON [{"id": str, "sql": str}]
stdout: JSON [{"id": str, "ok": bool, "kind"?: str, "error"?: str}]
"""
import json
import logging
import re
import sys

import sqlglot
from sqlglot import exp
from sqlglot.errors import ErrorLevel, ParseError

# The Command fallback is reported as a failure below; its warning would only add noise on stderr.
logging.getLogger("sqlglot").setLevel(logging.ERROR)


def kind(node):
    name = type(node).__name__
    if isinstance(node, exp.Create):
        return f"{name} {node.args.get('kind')}"
    if isinstance(node, exp.Alter):
        actions = " ".join(type(a).__name__ for a in node.args.get("actions") or [])
        return f"{name} {node.args.get('kind')} {actions}".strip()
    if isinstance(node, exp.Drop):
        return f"{name} {node.args.get('kind')}"
    return name


def plain(error):
    # sqlglot underlines the failing token with terminal escapes.
    return re.sub(r"\x1b\[[0-9;]*m", "", f"{type(error).__name__}: {error}")


def check(sql):
    try:
        parsed = [e for e in sqlglot.parse(sql, read="snowflake", error_level=ErrorLevel.RAISE) if e is not None]
    except ParseError as e:
        return {"ok": False, "error": plain(e)}
    except Exception as e:  # sqlglot raises TokenError and others for broken input
        return {"ok": False, "error": plain(e)}
    if len(parsed) != 1:
        return {"ok": False, "error": f"expected one statement, sqlglot read {len(parsed)}"}
    node = parsed[0]
    if isinstance(node, exp.Command):
        return {"ok": False, "kind": "Command", "error": "sqlglot has no Snowflake grammar for this statement (it fell back to an unparsed Command)"}
    return {"ok": True, "kind": kind(node)}


def main():
    out = [{"id": item["id"], **check(item["sql"])} for item in json.load(sys.stdin)]
    json.dump({"sqlglot": sqlglot.__version__, "results": out}, sys.stdout)


if __name__ == "__main__":
    main()
