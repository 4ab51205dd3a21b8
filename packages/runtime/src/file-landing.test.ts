import { afterEach, describe, expect, it } from "vitest";
import { createHash } from "node:crypto";
import { readdir } from "node:fs/promises";
import { pathToFileURL } from "node:url";
import { testdir, type TestDir } from "@xo-foundry/testkit";
import { fileLanding } from "./file-landing.js";

let dir: TestDir;
afterEach(() => dir?.remove());

async function* chunks(...parts: string[]) {
  for (const p of parts) yield new TextEncoder().encode(p);
}

describe("fileLanding", () => {
  it("streams a body to its URI and reports bytes and sha256", async () => {
    dir = await testdir();
    const store = fileLanding();
    const uri = pathToFileURL(dir.path("a/b/c.ndjson")).href;
    const result = await store.write(uri, chunks('{"a":1}\n', '{"a":2}\n'));
    expect(result).toEqual({ bytes: 16, sha256: createHash("sha256").update('{"a":1}\n{"a":2}\n').digest("hex") });
    expect(await store.readText(uri)).toBe('{"a":1}\n{"a":2}\n');
    expect(await store.list(pathToFileURL(dir.path("a")).href)).toEqual([{ uri, bytes: 16 }]);
  });

  it("leaves no partial file when the body fails midway", async () => {
    dir = await testdir();
    const store = fileLanding();
    const uri = pathToFileURL(dir.path("x/part.ndjson")).href;
    async function* broken() {
      yield new TextEncoder().encode("half");
      throw new Error("connection reset");
    }
    await expect(store.write(uri, broken())).rejects.toThrow("connection reset");
    expect(await readdir(dir.path("x"))).toEqual([]);
  });

  it("answers undefined for a missing object and deletes prefixes", async () => {
    dir = await testdir();
    const store = fileLanding();
    const root = pathToFileURL(dir.path("p")).href;
    expect(await store.readText(`${root}/nothing.json`)).toBeUndefined();
    await store.writeText(`${root}/one/_manifest.json`, "{}");
    await store.deletePrefix(`${root}/one`);
    expect(await store.list(root)).toEqual([]);
  });
});

describe("fileLanding copy", () => {
  it("copies a file into place, creating parents", async () => {
    dir = await testdir({ "a/x.ndjson": '{"a":1}\n' });
    const store = fileLanding();
    const to = pathToFileURL(dir.path("b/c/x.ndjson")).href;
    await store.copy!(pathToFileURL(dir.path("a/x.ndjson")).href, to);
    expect(await store.readText(to)).toBe('{"a":1}\n');
    expect(await readdir(dir.path("b/c"))).toEqual(["x.ndjson"]);
  });
});
