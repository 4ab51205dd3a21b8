#!/usr/bin/env python3
"""Parse a DAG folder (or a single DAG file) with Airflow's DagBag and report the result as JSON.

Run it with the Python of an Airflow venv made by ``tools/airflow/setup.sh``::

    .venv/airflow3/bin/python tools/airflow/check_dags.py path/to/dags
    .venv/airflow2/bin/python tools/airflow/check_dags.py path/to/dags

Output (stdout, one JSON document)::

    {"dags": [sorted dag ids],
     "import_errors": {file: message},
     "tasks": {dag_id: {task_id: [sorted downstream task ids]}}}

Exit status: 0 = parsed without import errors, 1 = at least one import error,
2 = bad usage (path does not exist).

Works on Airflow 2.x (``airflow.models.DagBag``) and 3.x
(``airflow.dag_processing.dagbag.DagBag``). No metadata database is needed: if
``AIRFLOW_HOME`` is not set, a throwaway one is created so that ``~/airflow`` is
never touched. Anything Airflow or the DAG files print while loading is sent to
stderr so that stdout stays valid JSON.
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import shutil
import sys
import tempfile


def _prepare_env() -> str | None:
    """Set the environment Airflow reads at import time. Returns a temp dir to remove, if any."""
    tmp_home = None
    if not os.environ.get("AIRFLOW_HOME"):
        tmp_home = tempfile.mkdtemp(prefix="xo-airflow-home-")
        os.environ["AIRFLOW_HOME"] = tmp_home
    os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
    # Do not let a parse hang forever on a pathological file.
    os.environ.setdefault("AIRFLOW__CORE__DAGBAG_IMPORT_TIMEOUT", "60")
    return tmp_home


def _import_dagbag():
    try:  # Airflow 3.x: the real home of the file-parsing DagBag.
        from airflow.dag_processing.dagbag import DagBag  # type: ignore[import-not-found]
    except ImportError:  # Airflow 2.x
        from airflow.models.dagbag import DagBag  # type: ignore[import-not-found,no-redef]
    return DagBag


def load(path: str, safe_mode: bool | None) -> dict:
    DagBag = _import_dagbag()
    params = inspect.signature(DagBag.__init__).parameters
    kwargs: dict = {"dag_folder": path}
    # Airflow 2 has include_examples; Airflow 3 removed it (examples are a separate bundle there).
    if "include_examples" in params:
        kwargs["include_examples"] = False
    if safe_mode is not None:
        kwargs["safe_mode"] = safe_mode
    bag = DagBag(**kwargs)

    tasks = {}
    for dag_id in sorted(bag.dags):
        dag = bag.dags[dag_id]
        tasks[dag_id] = {
            task.task_id: sorted(task.downstream_task_ids)
            for task in sorted(dag.tasks, key=lambda t: t.task_id)
        }
    return {
        "dags": sorted(bag.dags),
        "import_errors": {str(k): str(v) for k, v in sorted(bag.import_errors.items())},
        "tasks": tasks,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("path", help="DAG folder or single DAG .py file")
    parser.add_argument(
        "--all-files",
        action="store_true",
        help="parse every .py file (safe_mode=False); by default, like Airflow, only files "
        "containing both 'airflow' and 'dag' are parsed",
    )
    parser.add_argument("--indent", type=int, default=None, help="pretty-print JSON")
    args = parser.parse_args(argv)

    path = os.path.abspath(args.path)
    if not os.path.exists(path):
        print(f"check_dags: no such file or directory: {path}", file=sys.stderr)
        return 2

    tmp_home = _prepare_env()
    # Route fd 1 to stderr while Airflow is imported and the DAG files run: Airflow's log
    # handlers and print() in DAG files must not corrupt the JSON on stdout.
    sys.stdout.flush()
    saved_stdout = os.dup(1)
    os.dup2(2, 1)
    try:
        result = load(path, safe_mode=False if args.all_files else None)
    finally:
        sys.stdout.flush()
        os.dup2(saved_stdout, 1)
        os.close(saved_stdout)
        if tmp_home:
            shutil.rmtree(tmp_home, ignore_errors=True)

    if not result["dags"] and not result["import_errors"]:
        print(f"check_dags: warning: no DAGs found in {path}", file=sys.stderr)
    sys.stdout.write(json.dumps(result, indent=args.indent, sort_keys=False) + "\n")
    sys.stdout.flush()
    return 1 if result["import_errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
