import { afterEach, describe, expect, it } from "vitest";
import { createHash } from "node:crypto";
import { readdir, stat } from "node:fs/promises";
import { pathToFileURL } from "node:url";
import { testdir, type TestDir } from "@xo-foundry/testkit";
import { fileLanding, landingWriteError } from "./file-landing.js";

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

  it("shares the bytes instead of copying them, and a later write of the source leaves the copy as it was", async () => {
    dir = await testdir({ "a/x.ndjson": '{"a":1}\n' });
    const store = fileLanding();
    const from = pathToFileURL(dir.path("a/x.ndjson")).href;
    const to = pathToFileURL(dir.path("b/x.ndjson")).href;
    await store.copy!(from, to);
    const [source, copy] = await Promise.all([stat(dir.path("a/x.ndjson")), stat(dir.path("b/x.ndjson"))]);
    expect(copy.ino).toBe(source.ino);
    expect(copy.nlink).toBe(2);

    await store.write(from, (async function* () { yield new TextEncoder().encode('{"a":2}\n'); })());
    await store.deletePrefix(pathToFileURL(dir.path("a")).href);
    expect(await store.readText(to)).toBe('{"a":1}\n');
  });
});

describe("fileLanding createText", () => {
  it("creates an object only when none exists, whole, and leaves no temporary", async () => {
    dir = await testdir();
    const store = fileLanding();
    const uri = pathToFileURL(dir.path("locks/p/lock-1.json")).href;
    expect(await store.createText!(uri, '{"holder":"a"}')).toBe(true);
    expect(await store.createText!(uri, '{"holder":"b"}')).toBe(false);
    expect(await store.readText(uri)).toBe('{"holder":"a"}');
    expect(await readdir(dir.path("locks/p"))).toEqual(["lock-1.json"]);
  });

  it("lets exactly one of many concurrent creators win", async () => {
    dir = await testdir();
    const store = fileLanding();
    const uri = pathToFileURL(dir.path("race.json")).href;
    const wins = await Promise.all(Array.from({ length: 20 }, (_, i) => store.createText!(uri, String(i))));
    expect(wins.filter(Boolean)).toHaveLength(1);
  });
});

describe("landing write errors", () => {
  const errno = (code: string) => Object.assign(new Error(`${code}: boom, write`), { code });

  it("name the file and what to do for a full disk, a read-only file system and missing permissions", () => {
    expect(landingWriteError(errno("ENOSPC"), "/l/part.ndjson")).toMatchObject({
      diagnostics: [
        expect.objectContaining({
          code: "XO_LANDING_WRITE_FAILED",
          message: "cannot write /l/part.ndjson in the landing zone: no space left on the device (ENOSPC)",
          hint: expect.stringContaining("free space on the landing volume"),
        }),
      ],
    });
    expect(landingWriteError(errno("EROFS"), "/l/x")).toMatchObject({ diagnostics: [expect.objectContaining({ hint: expect.stringContaining("read-only file system") })] });
    expect(landingWriteError(errno("EACCES"), "/l/x")).toMatchObject({ diagnostics: [expect.objectContaining({ hint: expect.stringContaining("permissions") })] });
  });

  it("leave other errors alone, and never blame the landing for the body's own failure", async () => {
    const other = errno("EISDIR");
    expect(landingWriteError(other, "/l/x")).toBe(other);
    dir = await testdir();
    async function* denied(): AsyncGenerator<Uint8Array> {
      yield new TextEncoder().encode("a");
      throw errno("EACCES");
    }
    await expect(fileLanding().write(pathToFileURL(dir.path("y/part")).href, denied())).rejects.toMatchObject({ code: "EACCES" });
  });
});
