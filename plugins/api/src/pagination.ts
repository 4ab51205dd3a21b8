/**
 * Pagination as a generator of pages. Each strategy only answers "given the page
 * just read, what is the next URL?"; the loop around it owns the safety rules
 * (max_pages, an API that repeats itself) and fetches a page only after the
 * previous one was consumed, so at most one page is held in memory.
 */
import type { Logger } from "@xo-foundry/core";
import type { ApiRequest, JsonResponse } from "./http.js";
import type { PaginationOptions } from "./options.js";
import { getPath, recordsAt, type ApiRecord } from "./records.js";
import { withParams } from "./urls.js";

export interface PaginateInput {
  readonly pagination: PaginationOptions;
  readonly method: ApiRequest["method"];
  /** The stream's URL with its own params; strategies add theirs. */
  readonly first: URL;
  /** The JSON body of a POST stream; page parameters are added to it rather than to the query. */
  readonly body?: Readonly<Record<string, unknown>>;
  /** The source's `page_size`, used when the strategy sets none. */
  readonly pageSize: number;
  readonly maxPages: number | undefined;
  readonly recordPath: string | undefined;
  readonly fetch: (request: ApiRequest) => Promise<JsonResponse>;
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

/** A page to ask for: a URL, and the page parameters (query parameters, or body fields of a POST). */
interface PageAsk {
  readonly url: URL;
  readonly params: Readonly<Record<string, string | number>>;
}

/** Returns the next page to request, or undefined when the stream is complete. */
type NextPage = (previous: PageRead | undefined) => PageAsk | undefined;

export async function* paginate(input: PaginateInput): AsyncGenerator<ApiRecord[], void, undefined> {
  const next = strategy(input.pagination, input.first, input.pageSize, (url) => `${input.method} ${input.printUrl(url)}`);
  let previous: PageRead | undefined;
  let previousFingerprint: string | undefined;
  let pages = 0;
  for (let ask = next(undefined); ask !== undefined; ask = next(previous)) {
    if (input.maxPages !== undefined && pages >= input.maxPages) {
      input.log.warn(`stopped after max_pages (${input.maxPages}) pages although the API has more; raise \`max_pages\` to read everything`);
      input.onMaxPages?.();
      return;
    }
    const post = input.method === "POST";
    const url = post ? ask.url : withParams(ask.url, ask.params);
    const response = await input.fetch({ method: input.method, url, ...(post ? { body: { ...input.body, ...ask.params } } : {}) });
    const where = `${input.method} ${input.printUrl(url)}`;
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

function strategy(pagination: PaginationOptions, first: URL, defaultPageSize: number, describe: (url: URL) => string): NextPage {
  const at = (url: URL, params: Readonly<Record<string, string | number>> = {}): PageAsk => ({ url, params });
  switch (pagination.type) {
    case "none":
      return (previous) => (previous ? undefined : at(first));

    case "offset": {
      const size = pagination.page_size ?? defaultPageSize;
      let offset = 0;
      return (previous) => {
        if (previous) {
          if (previous.records.length < size) return undefined;
          offset += previous.records.length;
        }
        return at(first, { [pagination.limit_param]: size, [pagination.offset_param]: offset });
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
        return at(first, { [pagination.page_param]: page, [pagination.size_param]: size });
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
              `expected a string or number at \`${pagination.next_cursor_path}\` (next_cursor_path) in the response of ${describe(previous.url)}, found ${JSON.stringify(value).slice(0, 80)}`,
            );
          }
          if (String(value) === cursor) {
            throw new Error(`${describe(previous.url)} returned the cursor it was given; stopping instead of reading the same page forever`);
          }
          cursor = String(value);
        }
        return at(first, cursor === undefined ? sizeParams : { ...sizeParams, [pagination.cursor_param]: cursor });
      };
    }

    case "next_url": {
      const sizeParams: Record<string, number> = pagination.limit_param ? { [pagination.limit_param]: pagination.page_size ?? defaultPageSize } : {};
      return (previous) => {
        if (!previous) return at(first, sizeParams);
        const value = getPath(previous.response.body, pagination.next_url_path);
        if (value === undefined || value === null || value === "" || value === false) return undefined;
        if (typeof value !== "string") {
          throw new Error(`expected a URL at \`${pagination.next_url_path}\` (next_url_path) in the response of ${describe(previous.url)}, found ${JSON.stringify(value).slice(0, 80)}`);
        }
        return at(sameOrigin(new URL(value, previous.url), first, previous.url, describe));
      };
    }

    case "link_header": {
      const sizeParams: Record<string, number> = pagination.limit_param ? { [pagination.limit_param]: pagination.page_size ?? defaultPageSize } : {};
      return (previous) => {
        if (!previous) return at(first, sizeParams);
        const link = nextLink(previous.response.headers.link);
        if (link === undefined) return undefined;
        return at(sameOrigin(new URL(link, previous.url), first, previous.url, describe));
      };
    }
  }
}

/** The next request carries our credentials; never send them to a host the user did not configure. */
function sameOrigin(url: URL, first: URL, previous: URL, describe: (url: URL) => string): URL {
  if (url.origin !== first.origin) {
    throw new Error(`the next-page link of ${describe(previous)} points to another origin (${url.origin}); refusing to send credentials there`);
  }
  if (url.href === previous.href) throw new Error(`${describe(previous)} gave its own URL as the next page; stopping instead of reading the same page forever`);
  return url;
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
