import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { Connection, LoadContext, LoadStrategy, ManifestFile } from "@xo-foundry/core";
import { streamContext, type TestDir } from "@xo-foundry/testkit";

export interface ContextInput {
  readonly dir: TestDir;
  readonly files: readonly string[];
  readonly strategy: LoadStrategy;
  readonly target?: Record<string, unknown>;
  readonly options?: Record<string, unknown>;
  readonly connection: Connection;
  readonly logicalDate?: string;
  readonly runId?: string;
}

/** Writes NDJSON rows as a landed file and returns its path. */
export async function ndjson(dir: TestDir, name: string, rows: readonly Record<string, unknown>[]): Promise<string> {
  return dir.write(`stage/shop/orders/${name}`, rows.map((r) => JSON.stringify(r)).join("\n") + "\n");
}

/** A LoadContext the way the runtime builds one for a file:// landing zone. */
export async function loadContext(input: ContextInput): Promise<LoadContext> {
  const logicalDate = input.logicalDate ?? "2024-01-02";
  const runId = input.runId ?? `scheduled__${logicalDate}T00:00:00+00:00`;
  const base = streamContext({ projectDir: input.dir.dir, stream: { name: "orders" }, strategy: input.strategy, logicalDate, runId, pipeline: {} });
  const files: ManifestFile[] = [];
  for (const file of input.files) {
    const body = await readFile(file);
    files.push({ uri: pathToFileURL(file).href, format: "ndjson", bytes: body.length, sha256: createHash("sha256").update(body).digest("hex") });
  }
  return {
    ...base,
    pipeline: { ...base.pipeline, pipeline: { ...base.pipeline.pipeline, name: "shop" } },
    sink: "main",
    options: input.options ?? {},
    target: input.target ?? {},
    connection: input.connection,
    manifest: {
      version: 1,
      pipeline: "shop",
      stream: "orders",
      strategy: input.strategy,
      logicalDate,
      runId,
      partition: pathToFileURL(input.dir.path("stage/shop/orders")).href,
      files,
      rows: 0,
      bytes: files.reduce((n, f) => n + f.bytes, 0),
    },
    localPath: async (file) => fileURLToPath(file.uri),
  };
}
