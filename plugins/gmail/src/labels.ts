/**
 * Labels as users write them (names, as the Gmail UI shows them) and as the API takes them
 * (ids: `INBOX` for system labels, `Label_12` for user labels). `users.labels.list` gives both.
 */
import { GmailError } from "./errors.js";
import type { Label } from "./gmail-api.js";

/** How many label names an error lists before it says "and N more". */
const LISTED_LABELS = 60;

export interface LabelIndex {
  /** The label's display name; an id Gmail did not list is returned as it is. */
  nameOf(id: string): string;
}

export function labelIndex(labels: readonly Label[]): LabelIndex {
  const names = new Map<string, string>();
  for (const l of labels) if (l.id) names.set(l.id, l.name ?? l.id);
  return { nameOf: (id) => names.get(id) ?? id };
}

/** The ids of `wanted`, each an id or a name: exact id, then exact name, then the one name equal ignoring case. */
export function resolveLabels(wanted: readonly string[], labels: readonly Label[], mailbox: string): string[] {
  return wanted.map((w) => {
    const byId = labels.find((l) => l.id === w);
    if (byId?.id) return byId.id;
    const byName = labels.find((l) => l.name === w);
    if (byName?.id) return byName.id;
    const folded = labels.filter((l) => l.id && l.name?.toLowerCase() === w.toLowerCase());
    if (folded.length === 1) return folded[0]!.id!;
    const known = labels
      .map((l) => l.name ?? l.id ?? "")
      .filter((n) => n !== "")
      .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const listed = known.slice(0, LISTED_LABELS).map((n) => JSON.stringify(n)).join(", ");
    const more = known.length > LISTED_LABELS ? ` and ${known.length - LISTED_LABELS} more` : "";
    const why = folded.length > 1 ? `matches ${folded.map((l) => JSON.stringify(l.name)).join(" and ")} ignoring case` : `is not a label of mailbox ${JSON.stringify(mailbox)}`;
    throw new GmailError(
      "GMAIL_LABEL_NOT_FOUND",
      `label ${JSON.stringify(w)} in the stream's \`labels\` ${why}; its labels are: ${listed || "(none)"}${more}`,
      "write a label's name as Gmail shows it (nested labels with their parents: `Vendors/Invoices`) or its id (`INBOX`, `Label_12`)",
    );
  });
}
