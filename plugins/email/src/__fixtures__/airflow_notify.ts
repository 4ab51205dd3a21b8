/** This repository's Airflow venvs (tools/airflow/setup.sh), for the testkit's notifier harness. */
import path from "node:path";
import { fileURLToPath } from "node:url";

export { airflowNotify, airflowPython, type CallbackContext } from "@xo-foundry/testkit";

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../../..");

/** Newest first. */
export const AIRFLOW_VENVS = [
  { version: 3, venv: path.join(REPO, ".venv/airflow3") },
  { version: 2, venv: path.join(REPO, ".venv/airflow2") },
] as const;
