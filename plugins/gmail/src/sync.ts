/**
 * Which messages a run reads, page by page, as Gmail's "Synchronize clients with Gmail" guide
 * describes: a full sync lists messages (`users.messages.list`, newest first); a partial sync
 * reads the mailbox history after a saved history id (`users.history.list`, oldest first),
 * and a 404 there means the id is too old and a full sync is due.
 */
import { GmailError } from "./errors.js";
import type { GmailApi } from "./gmail-api.js";
import { searchQuery, type WindowBounds } from "./window.js";

export interface WindowSync {
  readonly userQuery?: string | undefined;
  readonly labelIds: readonly string[];
  readonly bounds: WindowBounds;
  readonly maxResults: number;
  readonly includeSpamTrash: boolean;
}

/** The ids of the messages matching the labels, the query and the window, a page at a time. */
export async function* windowPages(api: GmailApi, sync: WindowSync): AsyncGenerator<string[], void, undefined> {
  const q = searchQuery(sync.userQuery, sync.bounds);
  let pageToken: string | undefined;
  do {
    const page = await api.listMessages({ q, labelIds: sync.labelIds, maxResults: sync.maxResults, pageToken, includeSpamTrash: sync.includeSpamTrash });
    const ids = (page.messages ?? []).map((m) => m.id).filter((id): id is string => typeof id === "string" && id !== "");
    if (ids.length) yield ids;
    pageToken = page.nextPageToken ?? undefined;
  } while (pageToken);
}

export interface HistorySync {
  readonly startHistoryId: string;
  /** Gmail filters history by one label; the stream's other labels are checked on each message. */
  readonly labelId?: string | undefined;
  readonly maxResults: number;
}

export type HistoryStep =
  /** Ids of messages added since the start, in the order Gmail recorded them. */
  | { readonly kind: "messages"; readonly ids: readonly string[] }
  /** The history is read to its end; `historyId` is where the next run starts. */
  | { readonly kind: "caught-up"; readonly historyId: string }
  /** Gmail no longer has history from the start id; nothing was read. */
  | { readonly kind: "expired" };

export async function* historySteps(api: GmailApi, sync: HistorySync): AsyncGenerator<HistoryStep, void, undefined> {
  // A message can appear in several records of one run (Gmail makes no promise otherwise); ids only, so this stays small.
  const seen = new Set<string>();
  let pageToken: string | undefined;
  let first = true;
  for (;;) {
    const page = await api.listHistory({ startHistoryId: sync.startHistoryId, labelId: sync.labelId, maxResults: sync.maxResults, pageToken });
    if (page === "expired") {
      if (first) {
        yield { kind: "expired" };
        return;
      }
      // Batches of this run are already out: a full sync now would repeat them within one run.
      throw new GmailError(
        "GMAIL_UNAVAILABLE",
        `Gmail's history after ${sync.startHistoryId} expired while it was being read`,
        "re-run the task: it will find the history id expired at once and do a full sync of the run's window",
        404,
      );
    }
    first = false;
    const ids: string[] = [];
    for (const record of page.history ?? []) {
      for (const added of record.messagesAdded ?? []) {
        const id = added.message?.id;
        if (id && !seen.has(id)) {
          seen.add(id);
          ids.push(id);
        }
      }
    }
    if (ids.length) yield { kind: "messages", ids };
    pageToken = page.nextPageToken ?? undefined;
    if (!pageToken) {
      // "If you receive no nextPageToken in the response, there are no updates to retrieve and
      // you can store the returned historyId for a future request."
      if (!page.historyId) throw new GmailError("GMAIL_REQUEST_REJECTED", "Gmail's last page of history carries no historyId", "check `root_url`: this is not Gmail's answer");
      yield { kind: "caught-up", historyId: page.historyId };
      return;
    }
  }
}
