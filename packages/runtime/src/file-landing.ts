/**
 * The built-in `file://` landing zone. Writes go to a temporary sibling and are
 * renamed into place, so a crash never leaves a half-written file under its
 * final name.
 */
import { createHash, randomUUID } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { copyFile, mkdir, readdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { pipeline } from "node:stream/promises";
import { Readable, Transform } from "node:stream";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { LandingObject, LandingStore } from "@xo-foundry/core";

export function fileLanding(): LandingStore {
  return {
    async write(uri, body) {
      const target = fileURLToPath(uri);
      await mkdir(path.dirname(target), { recursive: true });
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
      try {
        await pipeline(Readable.from(body), meter, createWriteStream(tmp));
        await rename(tmp, target);
      } catch (e) {
        await rm(tmp, { force: true });
        throw e;
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

    async writeText(uri, text) {
      const target = fileURLToPath(uri);
      await mkdir(path.dirname(target), { recursive: true });
      const tmp = `${target}.${randomUUID()}.tmp`;
      await writeFile(tmp, text);
      await rename(tmp, target);
    },

    async copy(fromUri, toUri) {
      const target = fileURLToPath(toUri);
      await mkdir(path.dirname(target), { recursive: true });
      const tmp = `${target}.${randomUUID()}.tmp`;
      try {
        await copyFile(fileURLToPath(fromUri), tmp);
        await rename(tmp, target);
      } catch (e) {
        await rm(tmp, { force: true });
        throw e;
      }
    },

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

    async deletePrefix(prefixUri) {
      await rm(fileURLToPath(prefixUri), { recursive: true, force: true });
    },

    async localPath(uri) {
      return fileURLToPath(uri);
    },
  };
}
