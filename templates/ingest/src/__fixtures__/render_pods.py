"""Renders the KubernetesPodOperator tasks of generated DAG files in a real Airflow and prints the pods.

Run it with the Python of an Airflow venv that has apache-airflow-providers-cncf-kubernetes::

    .venv/airflow3/bin/python templates/ingest/src/__fixtures__/render_pods.py DAG_DIR [RUN_ID]

For each DAG in DAG_DIR (parsed by Airflow's DagBag, then serialized the way the DAG processor
does) and each KubernetesPodOperator in it, the task's template fields are rendered by Airflow
itself and the operator builds its pod request (``build_pod_request_obj(dry_run=True)``: no
cluster is contacted). Prints one JSON object: {dag_id: {task_id: pod}}, where pod holds what
the kubelet would receive (image, command, args, env, labels, namespace, resources) and
``types``, the Python types of those values (only ``str`` means no literal() was left unresolved).

What is emulated: the template context holds only what the generated templates use (``ds``,
``run_id``, ``dag_run.logical_date``/``run_after``, ``conn``); connections come from
``AIRFLOW_CONN_<ID>`` environment variables. RUN_ID defaults to one with ``$(...)`` and Jinja
in it. Exit status: 0 = every task rendered, 1 = import errors, 2 = bad usage.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from types import SimpleNamespace


def main(argv: list[str]) -> int:
    if len(argv) not in (2, 3) or not os.path.exists(argv[1]):
        print(__doc__, file=sys.stderr)
        return 2
    os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="xo-airflow-home-"))
    os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
    run_id = argv[2] if len(argv) == 3 else "manual__$(XO_CONN_SHOP_API)$$x{{ 7 * 7 }}"
    # Airflow and the DAG files log to stdout (its loggers keep the stream they first
    # see); keep stdout for the JSON.
    real_stdout, sys.stdout = sys.stdout, sys.stderr

    import pendulum

    try:  # Airflow 3
        from airflow.dag_processing.dagbag import DagBag
        from airflow.sdk.execution_time.context import ConnectionAccessor
        from airflow.serialization.serialized_objects import DagSerialization as Serializer
    except ImportError:  # Airflow 2
        from airflow.models.dagbag import DagBag  # type: ignore[no-redef]
        from airflow.serialization.serialized_objects import SerializedDAG as Serializer  # type: ignore[no-redef]
        from airflow.utils.context import ConnectionAccessor  # type: ignore[no-redef]
    from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator

    kwargs = {"include_examples": False} if "include_examples" in DagBag.__init__.__code__.co_varnames else {}
    bag = DagBag(dag_folder=argv[1], **kwargs)
    if bag.import_errors:
        print(json.dumps({"import_errors": {str(k): str(v) for k, v in bag.import_errors.items()}}), file=real_stdout)
        return 1

    when = pendulum.datetime(2024, 3, 4, tz="UTC")
    out: dict = {}
    for dag_id, dag in sorted(bag.dags.items()):
        Serializer.to_dict(dag)  # what the DAG processor stores; must not fail on literal() values
        for task in sorted(dag.tasks, key=lambda t: t.task_id):
            if not isinstance(task, KubernetesPodOperator):
                continue
            context = {
                "ds": when.to_date_string(),
                "run_id": run_id,
                "dag_run": SimpleNamespace(logical_date=when, run_after=when, run_id=run_id),
                "conn": ConnectionAccessor(),
            }
            task.render_template_fields(context)
            pod = task.build_pod_request_obj(None, dry_run=True)
            container = pod.spec.containers[0]
            labels = dict(pod.metadata.labels)
            labels.pop("airflow_version", None)  # added by the operator itself
            resources = container.resources
            values = [
                container.image,
                pod.metadata.namespace,
                *container.command,
                *container.args,
                *(e.value for e in container.env),
                *labels,
                *labels.values(),
            ]
            if resources is not None:
                values += [*(resources.requests or {}).values(), *(resources.limits or {}).values()]
            out.setdefault(dag_id, {})[task.task_id] = {
                "name": task.name,
                "namespace": pod.metadata.namespace,
                "image": container.image,
                "command": container.command,
                "args": container.args,
                "env": {e.name: e.value for e in container.env},
                "labels": labels,
                "resources": None
                if resources is None
                else {"requests": resources.requests, "limits": resources.limits},
                "service_account_name": pod.spec.service_account_name,
                "image_pull_policy": container.image_pull_policy,
                "config_file": task.config_file,
                "types": sorted({type(v).__name__ for v in values}),
            }
    print(json.dumps(out, ensure_ascii=True, sort_keys=True), file=real_stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
