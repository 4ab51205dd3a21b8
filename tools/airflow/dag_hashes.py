#!/usr/bin/env python3
"""Serialize every DAG of a folder the way Airflow stores it and print its dag_hash, as JSON.

Airflow writes a new serialized DAG version whenever this hash changes, so a DAG file
whose hash differs between two parses makes Airflow 3 create a version per parse.
Run it twice, in two processes, and compare::

    .venv/airflow3/bin/python tools/airflow/dag_hashes.py path/to/dags

Output: {"<dag_id>": "<md5 hex>", ...}. Exit 1 if the folder has import errors.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import tempfile


def dag_hash(model, data) -> str:
    if hasattr(model, "hash"):  # Airflow 3
        return model.hash(data)
    # Airflow 2 computes the same md5 inline when it writes a serialized DAG.
    import hashlib

    return hashlib.md5(json.dumps(data, sort_keys=True).encode("utf-8")).hexdigest()


def main(folder: str) -> int:
    os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="xo-airflow-hash-"))
    os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
    # The serialized DAG records the processor's dags folder: pin it, as a deployment does.
    os.environ.setdefault("AIRFLOW__CORE__DAGS_FOLDER", os.path.abspath(folder))
    with contextlib.redirect_stdout(sys.stderr):
        try:
            from airflow.dag_processing.dagbag import DagBag  # Airflow 3.1+
        except ImportError:
            from airflow.models.dagbag import DagBag  # Airflow 2
        try:
            from airflow.serialization.serialized_objects import DagSerialization as serializer
        except ImportError:
            from airflow.serialization.serialized_objects import SerializedDAG as serializer
        from airflow.models.serialized_dag import SerializedDagModel

        kwargs = {"dag_folder": folder}
        if "include_examples" in DagBag.__init__.__code__.co_varnames:
            kwargs["include_examples"] = False
        bag = DagBag(**kwargs)
        hashes = {dag_id: dag_hash(SerializedDagModel, serializer.to_dict(dag)) for dag_id, dag in sorted(bag.dags.items())}
    print(json.dumps(hashes, sort_keys=True))
    return 1 if bag.import_errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
