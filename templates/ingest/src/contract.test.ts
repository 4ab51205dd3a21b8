/** The ingest template against the testkit's template contract, with the pipelines of its golden cases. */
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describeTemplate } from "@xo-foundry/testkit";
import { ingest } from "./index.js";
import type { CaseInput } from "./__fixtures__/pipeline.js";

const CASES = fileURLToPath(new URL("./__fixtures__/cases/", import.meta.url));
const pipelines = readdirSync(CASES)
  .sort()
  .map((name) => (JSON.parse(readFileSync(path.join(CASES, name, "pipeline.json"), "utf8")) as CaseInput).config);

describeTemplate({ plugin: ingest(), pipelines });
