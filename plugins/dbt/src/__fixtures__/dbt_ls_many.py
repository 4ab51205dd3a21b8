"""`dbt ls` for many selections in one process, through dbt's own programmatic entry point
(dbt.cli.main.dbtRunner, the same command line the CLI parses), so a test can compare dozens
of selections without paying dbt's start-up for each.

stdin:  {"args": [common dbt ls arguments], "cases": [{"select": [...], "exclude": [...]}]}
argv[1]: the file that gets [[unique_id, ...] per case] as JSON (dbt prints to stdout itself)
"""
import json
import sys

from dbt.cli.main import dbtRunner


def main():
    spec = json.load(sys.stdin)
    runner = dbtRunner()
    out = []
    for case in spec["cases"]:
        args = ["ls", *spec["args"], "--resource-type", "model", "--output", "json", "--output-keys", "unique_id", "--quiet"]
        if case["select"]:
            args += ["--select", *case["select"]]
        if case["exclude"]:
            args += ["--exclude", *case["exclude"]]
        result = runner.invoke(args)
        if not result.success:
            raise SystemExit(f"dbt ls {args} failed: {result.exception}")
        out.append(sorted(json.loads(line)["unique_id"] for line in result.result))
    with open(sys.argv[1], "w", encoding="utf-8") as f:
        json.dump(out, f)


if __name__ == "__main__":
    main()
