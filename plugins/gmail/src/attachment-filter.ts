/**
 * Which attachments a stream lands: by file name glob (picomatch, case-insensitive: senders
 * write `REPORT.CSV` as often as `report.csv`), by MIME type (`text/csv`, or `text/*`), and
 * under a size cap. A skipped attachment says why, so the run's log explains a missing file.
 */
import { createRequire } from "node:module";
import type Picomatch from "picomatch";
import type { AttachmentFilter } from "./options.js";
import type { AttachmentPart } from "./parts.js";

// picomatch loads only for streams with a `filename` glob.
const require = createRequire(import.meta.url);

export interface Skip {
  readonly reason: string;
  /** `warn` when data the user probably wanted is left out (too large), `info` for a plain non-match. */
  readonly level: "info" | "warn";
}

export type AttachmentSelector = (attachment: AttachmentPart) => Skip | undefined;

export function attachmentSelector(filter: AttachmentFilter | undefined): AttachmentSelector {
  const glob = filter?.filename;
  const matchesName = glob === undefined ? () => true : (require("picomatch") as typeof Picomatch)(glob, { nocase: true, dot: true });
  const types = filter?.mime_types?.map((t) => t.toLowerCase());
  const maxBytes = filter?.max_bytes;
  return (a) => {
    if (!matchesName(a.filename)) return { reason: `its name does not match ${JSON.stringify(glob)}`, level: "info" };
    if (types && !types.some((t) => mimeMatches(t, a.mimeType))) {
      return { reason: `its type ${a.mimeType || "(none)"} is not one of ${types.join(", ")}`, level: "info" };
    }
    if (maxBytes !== undefined && a.size > maxBytes) return { reason: `its ${a.size} bytes exceed max_bytes ${maxBytes}`, level: "warn" };
    return undefined;
  };
}

/** `text/*` matches every `text/` type; anything else must be equal. */
function mimeMatches(pattern: string, mimeType: string): boolean {
  return pattern.endsWith("/*") ? mimeType.startsWith(pattern.slice(0, -1)) : pattern === mimeType;
}
