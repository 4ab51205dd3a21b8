/**
 * The landing store contract, as LandingStore documents it and the runtime uses it:
 * streamed writes with their size and sha256, whole small objects, listings under a
 * folder-like prefix in a fixed order, copies that stay as they were, prefix deletes.
 */
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { compareCodePoints, joinUri, type LandingDefinition, type LandingStore, type XoPlugin } from "@xo-foundry/core";
import { check, subjectOf, type ContractCheck, type Fail, type Subject, type SuiteOptions } from "./check.js";
import { definitionCheck, pluginChecks } from "./common.js";
import { registerChecks } from "./register.js";

export interface LandingPlace {
  readonly store: LandingStore;
  /** An empty prefix URI for this check (`file:///tmp/x`, `s3://bucket/run-1`), no trailing slash. */
  readonly root: string;
  cleanup?(): void | Promise<void>;
}

export interface LandingContractInput {
  /** The plugin that provides the store; leave out for a built-in store and give `provider`. */
  readonly plugin?: XoPlugin;
  /** `name@version` of the package a built-in store comes with (e.g. the runtime's `file://`). */
  readonly provider?: string;
  readonly scheme: string;
  /** A store and an empty root, once per check. */
  open(): LandingPlace | Promise<LandingPlace>;
  /**
   * The optional methods the store is documented to have. Without `createText` the runtime
   * runs without partition locks (with a warning), without `copy` it streams every byte
   * through the process; a check fails when a promised one is missing (a wrapper that drops it).
   */
  readonly capabilities?: { readonly createText?: boolean; readonly copy?: boolean };
}

const KEYS = ["plain.ndjson", "with space/file name.txt", "unicod\u00e9/\u4e2d\u6587-\u{1f600}.json", "deep/a/b/c/d.bin"];

export function landingChecks(input: LandingContractInput): ContractCheck[] {
  const subject: Subject = subjectOf(input.plugin ?? input.provider ?? "(unknown package)", "landing store", input.scheme);
  const definition = input.plugin ? findLanding(input.plugin, input.scheme) : undefined;

  async function inPlace(use: (place: LandingPlace) => Promise<void>): Promise<void> {
    const place = await input.open();
    try {
      await use(place);
    } finally {
      await place.cleanup?.();
    }
  }

  const checks: ContractCheck[] = [];
  if (input.plugin) {
    checks.push(...pluginChecks(subject, input.plugin));
    checks.push(definitionCheck(subject, definition ?? {}, "scheme"));
  }

  checks.push(
    check(subject, "streams a write and reads it back with its size and sha256", async (fail: Fail) => {
      await inPlace(async ({ store, root }) => {
        for (const key of KEYS) {
          const uri = joinUri(root, key);
          const parts = [`first part of ${key}\n`, "", "\u00e9\u4e2d\u{1f600}\n", "x".repeat(70_000)];
          const text = parts.join("");
          const written = await store.write(uri, body(parts));
          const sha256 = createHash("sha256").update(text).digest("hex");
          if (written.bytes !== Buffer.byteLength(text) || written.sha256 !== sha256) {
            fail(`writing ${JSON.stringify(key)} reported ${JSON.stringify(written)}, expected ${Buffer.byteLength(text)} bytes and sha256 ${sha256}`, "count and hash the bytes as they stream through");
          }
          const back = await collect(store.read(uri));
          if (back !== text) fail(`reading ${JSON.stringify(key)} back gave ${back.length} characters, not the ${text.length} written`, "return the stored bytes unchanged");
          if ((await store.readText(uri)) !== text) fail(`readText of ${JSON.stringify(key)} differs from what was written`, "decode the stored bytes as UTF-8");
          const local = await store.localPath(uri);
          if ((await readFile(local, "utf8")) !== text) fail(`localPath of ${JSON.stringify(key)} (${local}) does not hold the object`, "return a local file with the object's bytes");
        }
        if ((await store.readText(joinUri(root, "missing.json"))) !== undefined) fail("readText of a missing object did not resolve undefined", "resolve undefined when the object does not exist");
      });
    }),

    check(subject, "replaces an object that is written again", async (fail: Fail) => {
      await inPlace(async ({ store, root }) => {
        const uri = joinUri(root, "again/object.json");
        await store.write(uri, body(["the first, longer version\n"]));
        await store.write(uri, body(["second\n"]));
        if ((await store.readText(uri)) !== "second\n") fail("a second write of one URI did not replace the first", "replace the object whole (write to a temporary, then rename or put)");
        await store.writeText(uri, "third");
        if ((await store.readText(uri)) !== "third") fail("writeText did not replace the object", "replace the object whole");
        const listed = await store.list(joinUri(root, "again"));
        if (listed.length !== 1 || listed[0]?.bytes !== 5) fail(`after three writes of one URI the listing is ${JSON.stringify(listed)}`, "keep one object per URI, and report its current size");
      });
    }),

    check(subject, "leaves nothing behind when a write's body fails", async (fail: Fail) => {
      await inPlace(async ({ store, root }) => {
        const uri = joinUri(root, "broken/part.ndjson");
        const boom = new Error("the source broke off");
        async function* broken(): AsyncGenerator<Uint8Array> {
          yield Buffer.from("half a file");
          throw boom;
        }
        let error: unknown;
        try {
          await store.write(uri, broken());
        } catch (e) {
          error = e;
        }
        if (error === undefined) fail("a write whose body failed resolved", "reject with the body's error");
        if (error !== boom && (error as { cause?: unknown }).cause !== boom) fail(`a write whose body failed rejected with ${String(error)}, not the body's error`, "rethrow the body's own error, so the source's failure is reported, not the store's");
        if ((await store.readText(uri)) !== undefined) fail("a write whose body failed left an object under its URI", "write to a temporary and publish it only when the body is complete");
        const listed = await store.list(joinUri(root, "broken"));
        if (listed.length > 0) fail(`a write whose body failed left ${JSON.stringify(listed)}`, "remove the temporary when the body fails");
      });
    }),

    check(subject, "lists every object under a folder-like prefix, in code-point order, every time", async (fail: Fail) => {
      await inPlace(async ({ store, root }) => {
        // Written out of order, with a sibling whose name starts like the prefix.
        for (const key of [...KEYS].reverse()) await store.writeText(joinUri(root, "in", key), key);
        await store.writeText(joinUri(root, "in-sibling", "x.txt"), "not under in/");
        const first = await store.list(joinUri(root, "in"));
        const second = await store.list(joinUri(root, "in"));
        if (JSON.stringify(first) !== JSON.stringify(second)) fail("two listings of one prefix differ", "sort the listing");
        const names = first.map((o) => decodeURI(o.uri));
        const expected = KEYS.map((k) => decodeURI(joinUri(root, "in", k))).sort(compareCodePoints);
        if (JSON.stringify(names) !== JSON.stringify(expected)) {
          fail(`listing ${root}/in gave ${JSON.stringify(names)}, expected ${JSON.stringify(expected)}`, "list every object below the prefix as a folder (not siblings whose names start the same), sorted by code point");
        }
        for (const object of first) {
          const key = KEYS.find((k) => decodeURI(joinUri(root, "in", k)) === decodeURI(object.uri));
          if (object.bytes !== Buffer.byteLength(key ?? "")) fail(`${object.uri} is listed with ${object.bytes} bytes, it holds ${Buffer.byteLength(key ?? "")}`, "report each object's size in bytes");
          if ((await store.readText(object.uri)) !== key) fail(`the listed URI ${object.uri} does not read back its object`, "list URIs that read, copy and delete the object they name");
        }
        if ((await store.list(joinUri(root, "nothing-here"))).length !== 0) fail("listing an empty prefix returned objects", "return [] for a prefix with no objects");
      });
    }),

    check(subject, "deletes every object under a prefix and nothing else", async (fail: Fail) => {
      await inPlace(async ({ store, root }) => {
        for (const key of KEYS) await store.writeText(joinUri(root, "gone", key), key);
        await store.writeText(joinUri(root, "gone-sibling", "kept.txt"), "kept");
        await store.deletePrefix(joinUri(root, "gone"));
        const left = await store.list(joinUri(root, "gone"));
        if (left.length > 0) fail(`deletePrefix left ${JSON.stringify(left)}`, "remove every object under the prefix");
        if ((await store.readText(joinUri(root, "gone-sibling", "kept.txt"))) !== "kept") fail("deletePrefix removed a sibling whose name starts like the prefix", "treat the prefix as a folder: delete `<prefix>/...` only");
        await store.deletePrefix(joinUri(root, "never-written"));
      });
    }),

    check(subject, "createText creates only once, atomically", async (fail: Fail) => {
      await inPlace(async ({ store, root }) => {
        if (!store.createText) {
          if (input.capabilities?.createText) fail("the store has no createText, although it is documented to have one", "forward createText from every wrapper (lazy loaders, decorators); without it the runtime takes no partition locks");
          return;
        }
        const uri = joinUri(root, "locks/lock-1.json");
        const wins = await Promise.all(Array.from({ length: 10 }, (_, i) => store.createText!(uri, `holder ${i}`)));
        if (wins.filter(Boolean).length !== 1) fail(`${wins.filter(Boolean).length} of 10 concurrent createText calls won`, "create with If-None-Match: * or a hard link, so exactly one caller wins");
        const winner = wins.indexOf(true);
        if ((await store.readText(uri)) !== `holder ${winner}`) fail("the object holds another caller's text than the winner's", "publish the winner's complete text");
        if ((await store.createText!(uri, "late")) !== false) fail("createText over an existing object did not resolve false", "resolve false when the object exists");
      });
    }),

    check(subject, "copies stay as they were when the original is replaced or deleted", async (fail: Fail) => {
      await inPlace(async ({ store, root }) => {
        if (!store.copy) {
          if (input.capabilities?.copy) fail("the store has no copy, although it is documented to have one", "forward copy from every wrapper; without it every published byte passes through the process");
          return;
        }
        const from = joinUri(root, "ingest", KEYS[2]!);
        const to = joinUri(root, "stage", KEYS[2]!);
        await store.write(from, body(["original\n"]));
        await store.copy(from, to);
        if ((await store.readText(to)) !== "original\n") fail("the copy does not hold the original's bytes", "make the object appear at the new URI with the same bytes");
        await store.write(from, body(["replaced\n"]));
        if ((await store.readText(to)) !== "original\n") fail("replacing the original changed the copy", "share bytes only where a new write of the original cannot change them (a hard link plus rename-on-write, a server-side copy)");
        await store.deletePrefix(joinUri(root, "ingest"));
        if ((await store.readText(to)) !== "original\n") fail("deleting the original removed the copy", "copy or link; never point the copy at the original's name");
      });
    }),
  );
  return checks;
}

/** Registers the landing store contract as a vitest `describe` block. */
export function describeLandingStore(input: LandingContractInput, options: SuiteOptions = {}): void {
  registerChecks(`landing store contract: ${input.scheme}:// (${input.plugin?.name ?? input.provider ?? "built in"})`, landingChecks(input), options);
}

function findLanding(plugin: XoPlugin, scheme: string): LandingDefinition | undefined {
  return plugin.landings?.find((l) => l.scheme === scheme);
}

async function* body(parts: readonly string[]): AsyncGenerator<Uint8Array> {
  for (const part of parts) yield Buffer.from(part, "utf8");
}

async function collect(stream: AsyncIterable<Uint8Array>): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks).toString("utf8");
}
