#!/usr/bin/env python3
"""Fill one Airflow DagBag from a DAG folder and report how long that took, as JSON.

Started by ``tools/bench/parse/run.mjs`` with the Python of the Airflow venv, once per
repeat, in a fresh process. Not meant to be run by hand, but it can be::

    AIRFLOW_HOME=$(mktemp -d) AIRFLOW__CORE__LOAD_EXAMPLES=False \\
      .venv/airflow3/bin/python tools/bench/parse/measure_dagbag.py DAGS_DIR OUT.json \\
      --expect-dags 10 --expect-tasks 4 --fingerprint

What is timed: the ``DagBag(dag_folder=...)`` constructor only -- listing the folder,
importing every DAG file (which runs dag-factory's YAML loading for the dag-factory folder),
validating and bagging every DAG. Interpreter start and ``import airflow`` happen before the
clock starts. The environment (AIRFLOW_HOME, LOAD_EXAMPLES, timeouts) is set by the caller.

The result is written to OUT.json (stdout and stderr carry Airflow's own logging). Exit
status: 0 = the bag holds the expected DAGs and no import error; 3 = it does not (the JSON
still says what was found); 2 = bad usage.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import os
import statistics
import sys
import time


def _plain(value):
    """A JSON-able, comparable form of a DAG/task attribute."""
    value = getattr(value, "value", value) if type(value).__name__ == "LiteralValue" else value
    if isinstance(value, datetime.timedelta):
        return {"timedelta_s": value.total_seconds()}
    if isinstance(value, datetime.datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in sorted(value.items())}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (set, frozenset)):
        return sorted(_plain(v) for v in value)
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return repr(value)


def dag_fingerprint(dag) -> dict:
    """What must be equal for two DAGs to count as "the same DAG" in this benchmark.

    Left out on purpose: doc_md (xo-foundry copies the description into it, dag-factory
    appends the YAML it was built from, a person writes none), the "dagfactory" tag that
    dag-factory always adds, and whether bash_command is wrapped in ``literal()`` (xo-foundry
    does, to keep the command out of Jinja; the text is compared).
    """
    default_args = dag.default_args or {}
    tasks = {}
    for task in sorted(dag.tasks, key=lambda t: t.task_id):
        tasks[task.task_id] = {
            "operator": f"{type(task).__module__}.{type(task).__qualname__}",
            "bash_command": _plain(getattr(task, "bash_command", None)),
            "env": _plain(getattr(task, "env", None)),
            "append_env": getattr(task, "append_env", None),
            "owner": task.owner,
            "retries": task.retries,
            "retry_delay": _plain(task.retry_delay),
            "downstream": sorted(task.downstream_task_ids),
            "outlets": sorted(getattr(o, "uri", repr(o)) for o in (task.outlets or [])),
        }
    return {
        "dag_id": dag.dag_id,
        "description": dag.description,
        "schedule": _plain(dag.schedule),
        "timetable": type(dag.timetable).__name__,
        "start_date": _plain(dag.start_date),
        "timezone": str(dag.timezone),
        "catchup": dag.catchup,
        "max_active_runs": dag.max_active_runs,
        "max_active_tasks": dag.max_active_tasks,
        "tags": sorted(set(dag.tags) - {"dagfactory"}),
        "default_args": {k: _plain(default_args.get(k)) for k in ("owner", "retries", "retry_delay")},
        "tasks": tasks,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dag_folder")
    parser.add_argument("out_json")
    parser.add_argument("--expect-dags", type=int, required=True)
    parser.add_argument("--expect-tasks", type=int, required=True, help="tasks in every DAG")
    parser.add_argument(
        "--fingerprint",
        action="store_true",
        help="also write every DAG's fingerprint and their sha256 (after the clock stops)",
    )
    args = parser.parse_args(argv)
    folder = os.path.abspath(args.dag_folder)
    if not os.path.isdir(folder):
        print(f"measure_dagbag: not a directory: {folder}", file=sys.stderr)
        return 2

    # Untimed: interpreter start is over; import Airflow and the DagBag module now.
    import_start = time.perf_counter()
    from airflow.dag_processing.dagbag import DagBag  # Airflow 3.x

    import airflow

    import_s = time.perf_counter() - import_start

    wall_start = time.perf_counter()
    cpu_start = time.process_time()
    bag = DagBag(dag_folder=folder)
    cpu_s = time.process_time() - cpu_start
    wall_s = time.perf_counter() - wall_start

    stats = bag.dagbag_stats
    file_durations = sorted(s.duration.total_seconds() for s in stats)
    task_counts = {dag_id: len(dag.tasks) for dag_id, dag in bag.dags.items()}
    result: dict = {
        "airflow_version": airflow.__version__,
        "python": sys.version.split()[0],
        "folder": folder,
        "airflow_import_s": import_s,
        "fill_wall_s": wall_s,
        "fill_cpu_s": cpu_s,
        "files": len(stats),
        "file_sum_s": sum(file_durations),
        "file_median_s": statistics.median(file_durations) if file_durations else 0.0,
        "file_max_s": file_durations[-1] if file_durations else 0.0,
        "dags": len(bag.dags),
        "tasks_total": sum(task_counts.values()),
        "import_errors": {str(k): str(v) for k, v in sorted(bag.import_errors.items())},
    }

    problems = []
    if bag.import_errors:
        problems.append(f"{len(bag.import_errors)} import error(s)")
    if len(bag.dags) != args.expect_dags:
        problems.append(f"{len(bag.dags)} DAGs, expected {args.expect_dags}")
    wrong = {d: n for d, n in task_counts.items() if n != args.expect_tasks}
    if wrong:
        sample = dict(list(sorted(wrong.items()))[:5])
        problems.append(f"{len(wrong)} DAG(s) without {args.expect_tasks} tasks, e.g. {sample}")
    result["problems"] = problems

    if args.fingerprint:
        prints = {dag_id: dag_fingerprint(bag.dags[dag_id]) for dag_id in sorted(bag.dags)}
        blob = json.dumps(prints, sort_keys=True, separators=(",", ":")).encode()
        result["fingerprint_sha256"] = hashlib.sha256(blob).hexdigest()
        result["fingerprints"] = prints

    try:  # after the clock: do not import dagfactory itself, only read its metadata
        from importlib.metadata import version

        result["dag_factory_version"] = version("dag-factory")
    except Exception:  # pylint: disable=broad-except
        result["dag_factory_version"] = None

    with open(args.out_json, "w", encoding="utf-8") as fh:
        json.dump(result, fh)
    return 3 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
