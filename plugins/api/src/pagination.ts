/**
 * Pagination as a generator of pages. Each strategy only answers "given the page
 * just read, what is the next URL?"; the loop around it owns the safety rules
 * (max_pages, an API that repeats itself) and fetches a page only after the
 * previous one was consumed, so at most one page is held in memory.
 */
import type { Logger } from "@xo-foundry/core";
import type { JsonResponse } from "./http.js";
import type { PaginationOptions } from "./options.js";
import { getPath, recordsAt, type ApiRecord } from "./records.js";
import { withParams } from "./urls.js";

export interface PaginateInput {
  readonly pagination: PaginationOptions;
  /** The stream's URL with its own params; strategies add theirs. */
  readonly first: URL;
  /** The source's `page_size`, used when the strategy sets none. */
  readonly pageSize: number;
  readonly maxPages: number | undefined;
  readonly recordPath: string | undefined;
  readonly fetch: (url: URL) => Promise<JsonResponse>;
  /** Renders a URL for messages with credentials masked. */
  readonly printUrl: (url: URL) => string;
  readonly log: Logger;
  /** Told when `max_pages` ends the read although the API has more pages (an incremental cursor must not skip them). */
  readonly onMaxPages?: () => void;
}

interface PageRead {
  readonly url: URL;
  readonly response: JsonResponse;
  readonly records: readonly ApiRecord[];
}

/** Returns the next URL to request, or undefined when the stream is complete. */
type NextUrl = (previous: PageRead | undefined) => URL | undefined;

export async function* paginate(input: PaginateInput): AsyncGenerator<ApiRecord[], void, undefined> {
  const next = strategy(input.pagination, input.first, input.pageSize, input.printUrl);
  let previous: PageRead | undefined;
  let previousFingerprint: string | undefined;
  let pages = 0;
  for (let url = next(undefined); url !== undefined; url = next(previous)) {
    if (input.maxPages !== undefined && pages >= input.maxPages) {
      input.log.warn(`stopped after max_pages (${input.maxPages}) pages although the API has more; raise \`max_pages\` to read everything`);
      input.onMaxPages?.();
      return;
    }
    const response = await input.fetch(url);
    const where = `GET ${input.printUrl(url)}`;
    const records = recordsAt(response.body, input.recordPath, where);
    pages++;
    input.log.debug(`page ${pages}: ${records.length} records`, { url: input.printUrl(url) });

    // An API that ignores our offset or cursor parameter would otherwise be paged forever.
    const fingerprint = records.length ? `${records.length}:${JSON.stringify(records[0])}:${JSON.stringify(records.at(-1))}` : undefined;
    if (fingerprint !== undefined && fingerprint === previousFingerprint) {
      throw new Error(
        `${where} returned the same page as the request before it; the API probably ignores the pagination parameters. ` +
          "Check the parameter names under `pagination` against the API's documentation",
      );
    }
    previousFingerprint = fingerprint;

    if (records.length) yield records;
    previous = { url, response, records };
  }
}

function strategy(pagination: PaginationOptions, first: URL, defaultPageSize: number, printUrl: (url: URL) => string): NextUrl {
  switch (pagination.type) {
    case "none":
      return (previous) => (previous ? undefined : first);

    case "offset": {
      const size = pagination.page_size ?? defaultPageSize;
      let offset = 0;
      return (previous) => {
        if (previous) {
          if (previous.records.length < size) return undefined;
          offset += previous.records.length;
        }
        return withParams(first, { [pagination.limit_param]: size, [pagination.offset_param]: offset });
      };
    }

    case "page": {
      const size = pagination.page_size ?? defaultPageSize;
      let page = pagination.start_page;
      return (previous) => {
        if (previous) {
          if (previous.records.length < size) return undefined;
          page++;
        }
        return withParams(first, { [pagination.page_param]: page, [pagination.size_param]: size });
      };
    }

    case "cursor": {
      const sizeParams: Record<string, number> = pagination.limit_param ? { [pagination.limit_param]: pagination.page_size ?? defaultPageSize } : {};
      let cursor: string | undefined;
      return (previous) => {
        if (previous) {
          const value = getPath(previous.response.body, pagination.next_cursor_path);
          if (value === undefined || value === null || value === "" || value === false) return undefined;
          if (typeof value !== "string" && typeof value !== "number") {
            throw new Error(
              `expected a string or number at \`${pagination.next_cursor_path}\` (next_cursor_path) in the response of GET ${printUrl(previous.url)}, found ${JSON.stringify(value).slice(0, 80)}`,
            );
          }
          if (String(value) === cursor) {
            throw new Error(`GET ${printUrl(previous.url)} returned the cursor it was given; stopping instead of reading the same page forever`);
          }
          cursor = String(value);
        }
        return withParams(first, cursor === undefined ? sizeParams : { ...sizeParams, [pagination.cursor_param]: cursor });
      };
    }

    case "link_header": {
      const sizeParams: Record<string, number> = pagination.limit_param ? { [pagination.limit_param]: pagination.page_size ?? defaultPageSize } : {};
      return (previous) => {
        if (!previous) return withParams(first, sizeParams);
        const link = nextLink(previous.response.headers.link);
        if (link === undefined) return undefined;
        const url = new URL(link, previous.url);
        // The next request carries our credentials; never send them to a host the user did not configure.
        if (url.origin !== first.origin) {
          throw new Error(`the next-page link of GET ${printUrl(previous.url)} points to another origin (${url.origin}); refusing to send credentials there`);
        }
        return url;
      };
    }
  }
}

/** The `rel="next"` target of an RFC 8288 `Link` header. */
export function nextLink(header: string | undefined): string | undefined {
  if (!header) return undefined;
  for (const match of header.matchAll(/<([^>]*)>([^<]*)/g)) {
    const rel = /;\s*rel\s*=\s*(?:"([^"]*)"|([^\s;,]+))/i.exec(match[2] ?? "");
    const rels = (rel?.[1] ?? rel?.[2] ?? "").toLowerCase().split(/\s+/);
    if (rels.includes("next")) return match[1];
  }
  return undefined;
}
