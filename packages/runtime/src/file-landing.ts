/**
 * The built-in `file://` landing zone. Writes go to a temporary sibling and are
 * renamed into place, so a crash never leaves a half-written file under its
 * final name; a killed writer's temporaries are removed by the next run that
 * publishes the partition (see TEMPORARY). A full, read-only or forbidden
 * folder is reported as XO_LANDING_WRITE_FAILED with the file it hit.
 */
import { createHash, randomUUID } from "node:crypto";
import { constants, createReadStream, createWriteStream } from "node:fs";
import { copyFile, link, mkdir, readdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { pipeline } from "node:stream/promises";
import { Readable, Transform } from "node:stream";
import { fileURLToPath, pathToFileURL } from "node:url";
import { xoError, type LandingObject, type LandingStore } from "@xo-foundry/core";

/** The names this store gives its temporaries: `<final name>.<uuid>.tmp`. */
export const TEMPORARY = /\.[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\.tmp$/;

/** Why a hard link can fail where a copy works: another file system, or one without links. */
const LINK_REFUSED = new Set(["EXDEV", "EPERM", "EMLINK", "ENOTSUP", "EOPNOTSUPP", "ENOSYS"]);

/** Errors that say the landing folder itself cannot take writes, which the user fixes outside xo-foundry. */
const WRITE_REFUSED: Readonly<Record<string, string>> = {
  ENOSPC: "no space left on the device",
  EDQUOT: "the disk quota is exhausted",
  EROFS: "the file system is read-only",
  EACCES: "permission denied",
  EPERM: "operation not permitted",
};

/** Rephrases a refused write as XO_LANDING_WRITE_FAILED naming the file; other errors pass unchanged. */
export function landingWriteError(e: unknown, target: string): unknown {
  const code = (e as NodeJS.ErrnoException | null)?.code;
  const reason = code === undefined ? undefined : WRITE_REFUSED[code];
  return reason === undefined ? e : xoError("XO_LANDING_WRITE_FAILED", { uri: target, reason, errno: code! });
}

/**
 * `mkdir -p`, but with the real reason when it fails: Node's recursive mkdir reports
 * ENOENT on a read-only file system, where a plain mkdir says EROFS.
 */
async function makeParents(dir: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
    let missing = dir;
    while (path.dirname(missing) !== missing && !(await stat(path.dirname(missing)).catch(() => undefined))) missing = path.dirname(missing);
    await mkdir(missing);
    throw e;
  }
}

async function writing<T>(target: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    throw landingWriteError(e, target);
  }
}

/**
 * Writes `target` through a temporary sibling: `fill` writes the temporary, `publish`
 * puts it in place (a rename, or a link that refuses an existing file). The temporary
 * never outlives the call, so a failed write leaves nothing under either name.
 */
function viaTemporary<T>(target: string, fill: (tmp: string) => Promise<void>, publish: (tmp: string, target: string) => Promise<T>): Promise<T> {
  return writing(target, async () => {
    await makeParents(path.dirname(target));
    const tmp = `${target}.${randomUUID()}.tmp`;
    try {
      await fill(tmp);
      return await publish(tmp, target);
    } finally {
      await rm(tmp, { force: true });
    }
  });
}

export function fileLanding(): LandingStore {
  return {
    async write(uri, body) {
      const target = fileURLToPath(uri);
      await writing(target, () => makeParents(path.dirname(target)));
      const tmp = `${target}.${randomUUID()}.tmp`;
      const hash = createHash("sha256");
      let bytes = 0;
      const meter = new Transform({
        transform(chunk: Buffer, _enc, done) {
          hash.update(chunk);
          bytes += chunk.length;
          done(null, chunk);
        },
      });
      // The body's own failures (a source that cannot read) are not the landing folder's.
      let bodyError: unknown;
      const guarded = (async function* () {
        try {
          yield* body;
        } catch (e) {
          bodyError = e;
          throw e;
        }
      })();
      try {
        await pipeline(Readable.from(guarded), meter, createWriteStream(tmp));
        await rename(tmp, target);
      } catch (e) {
        await rm(tmp, { force: true });
        throw e === bodyError ? e : landingWriteError(e, target);
      }
      return { bytes, sha256: hash.digest("hex") };
    },

    read(uri) {
      return createReadStream(fileURLToPath(uri));
    },

    async readText(uri) {
      try {
        return await readFile(fileURLToPath(uri), "utf8");
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
        throw e;
      }
    },

    writeText: (uri, text) =>
      viaTemporary(fileURLToPath(uri), (tmp) => writeFile(tmp, text), (tmp, target) => rename(tmp, target)),

    // A hard link of a complete file either appears whole under its name or fails with EEXIST:
    // `open(..., "wx")` would show a contender an empty lock while the first one writes it.
    createText: (uri, text) =>
      viaTemporary(
        fileURLToPath(uri),
        (tmp) => writeFile(tmp, text),
        (tmp, target) =>
          link(tmp, target).then(
            () => true,
            (e: NodeJS.ErrnoException) => {
              if (e.code === "EEXIST") return false;
              throw e;
            },
          ),
      ),

    // Publishing a partition costs no data I/O: the stage file is a second name of the
    // ingest file. Files are only ever replaced by rename, never rewritten, so the two
    // names keep the same bytes. Across file systems (or where links are refused) the
    // bytes are copied, as a clone where the file system can.
    copy: (fromUri, toUri) =>
      viaTemporary(
        fileURLToPath(toUri),
        (tmp) =>
          link(fileURLToPath(fromUri), tmp).catch((e: NodeJS.ErrnoException) => {
            if (!LINK_REFUSED.has(e.code ?? "")) throw e;
            return copyFile(fileURLToPath(fromUri), tmp, constants.COPYFILE_FICLONE);
          }),
        (tmp, target) => rename(tmp, target),
      ),

    async list(prefixUri) {
      const root = fileURLToPath(prefixUri);
      const out: LandingObject[] = [];
      const walk = async (dir: string): Promise<void> => {
        let entries;
        try {
          entries = await readdir(dir, { withFileTypes: true });
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code === "ENOENT") return;
          throw e;
        }
        for (const entry of entries) {
          const full = path.join(dir, entry.name);
          if (entry.isDirectory()) await walk(full);
          else if (entry.isFile()) out.push({ uri: pathToFileURL(full).href, bytes: (await stat(full)).size });
        }
      };
      await walk(root);
      return out.sort((a, b) => (a.uri < b.uri ? -1 : a.uri > b.uri ? 1 : 0));
    },

    deletePrefix: (prefixUri) => writing(fileURLToPath(prefixUri), () => rm(fileURLToPath(prefixUri), { recursive: true, force: true })),

    async localPath(uri) {
      return fileURLToPath(uri);
    },
  };
}
