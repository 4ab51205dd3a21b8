"""The dlt variant of the pipeline benchmark: dlt's own `rest_api` source -> DuckDB.

    python dlt_pipeline.py --base-url URL --rows N --page-size 5000 --database FILE \
        --pipelines-dir DIR [--loader-file-format jsonl]

The bearer token comes from BENCH_API_TOKEN. Without --loader-file-format dlt picks its
default for DuckDB (insert_values). run.mjs times this whole process, interpreter start
and imports included, as it times `xo-foundry run`. Prints one JSON line: dlt's row count
and its own seconds per step (extract, normalize, load), and the versions.
"""

import argparse
import json
import os

import dlt
import duckdb
from dlt.sources.rest_api import rest_api_source


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--rows", type=int, required=True)
    parser.add_argument("--page-size", type=int, required=True)
    parser.add_argument("--database", required=True)
    parser.add_argument("--pipelines-dir", required=True)
    parser.add_argument("--loader-file-format")
    args = parser.parse_args()

    source = rest_api_source(
        {
            "client": {
                "base_url": args.base_url.rstrip("/") + "/",
                "auth": {"type": "bearer", "token": os.environ["BENCH_API_TOKEN"]},
                # The same cursor pagination as the xo-foundry pipeline: ?limit=5000&cursor=...
                "paginator": {"type": "cursor", "cursor_path": "next_cursor", "cursor_param": "cursor"},
            },
            "resource_defaults": {"write_disposition": "replace"},
            "resources": [
                {
                    "name": "records",
                    "endpoint": {
                        "path": f"datasets/{args.rows}/records",
                        "params": {"limit": args.page_size},
                        "data_selector": "items",
                    },
                }
            ],
        }
    )
    pipeline = dlt.pipeline(
        pipeline_name="bench_pipeline",
        pipelines_dir=args.pipelines_dir,
        destination=dlt.destinations.duckdb(args.database),
        dataset_name="bench",
    )
    run_args = {"loader_file_format": args.loader_file_format} if args.loader_file_format else {}
    info = pipeline.run(source, **run_args)
    info.raise_on_failed_jobs()
    trace = pipeline.last_trace
    # dlt's own split of the run, for the report (run.mjs times the whole process).
    steps = {s.step: (s.finished_at - s.started_at).total_seconds() for s in trace.steps if s.finished_at}
    print(
        json.dumps(
            {
                "table": "bench.records",
                "rows": trace.last_normalize_info.row_counts.get("records"),
                "loader_file_format": args.loader_file_format or pipeline.destination.capabilities().preferred_loader_file_format,
                "steps_s": steps,
                "dlt_version": dlt.__version__,
                "duckdb_version": duckdb.__version__,
            }
        )
    )


if __name__ == "__main__":
    main()
