/**
 * A real moto_server (moto's S3 API over HTTP) on a free loopback port, one per
 * test file. `npm test` at the repo root creates it under .venv/services via
 * tools/setup.mjs; a missing server is a setup failure, never a skipped test.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { freePort } from "@xo-foundry/testkit";
import { fileURLToPath } from "node:url";
import { CreateBucketCommand, S3Client } from "@aws-sdk/client-s3";
import type { Connection } from "@xo-foundry/core";
import { createS3Client } from "../client.js";

// src/__fixtures__ -> plugins/s3 -> plugins -> repo root
const REPO_ROOT = fileURLToPath(new URL("../../../../", import.meta.url));
export const MOTO_SERVER = `${REPO_ROOT}.venv/services/bin/moto_server`;

export interface Moto {
  /** `http://127.0.0.1:<port>` */
  readonly endpoint: string;
  /** An Airflow-shaped `aws` connection pointing at this server. */
  connection(id?: string, secret?: string): Connection;
  client(): S3Client;
  createBucket(name: string): Promise<void>;
  stop(): Promise<void>;
}

export async function startMoto(): Promise<Moto> {
  if (!existsSync(MOTO_SERVER)) {
    throw new Error(
      `moto_server not found at ${MOTO_SERVER}. The S3 tests need a real S3 API server: ` +
        "run `node tools/setup.mjs` (or `npm test` at the repo root) to create .venv/services",
    );
  }
  const port = await freePort();
  const child = spawn(MOTO_SERVER, ["-H", "127.0.0.1", "-p", String(port)], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const endpoint = `http://127.0.0.1:${port}`;
  await waitUntilUp(endpoint, child, () => stderr);
  const connection = (id = "aws_test", secret = "moto-secret-key-0123456789"): Connection => ({
    id,
    type: "aws",
    login: "AKIAMOTOTESTKEY",
    password: secret,
    extra: { region_name: "us-east-1", endpoint_url: endpoint },
  });
  return {
    endpoint,
    connection,
    client: () => createS3Client(connection()),
    async createBucket(name) {
      const client = createS3Client(connection());
      await client.send(new CreateBucketCommand({ Bucket: name }));
      client.destroy();
    },
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 3000);
      await exited;
      clearTimeout(timer);
    },
  };
}

async function waitUntilUp(endpoint: string, child: ChildProcess, stderr: () => string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`moto_server exited with code ${child.exitCode}: ${stderr()}`);
    try {
      const res = await fetch(`${endpoint}/moto-api/`, { signal: AbortSignal.timeout(1000) });
      await res.arrayBuffer();
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  child.kill("SIGKILL");
  throw new Error(`moto_server did not answer on ${endpoint} within 30 s: ${stderr()}`);
}
