/**
 * The part of Gmail's search syntax (the `q` of users.messages.list) the emulator evaluates.
 * Gmail's grammar is published only as help pages ("Search operators you can use with Gmail",
 * support.google.com/mail/answer/7190; the API's "Searching for messages" guide), so most of
 * what follows is read from those pages and marked where it is an assumption.
 *
 * Implemented: terms joined by spaces (AND), `OR`, `-term`, `( ... )`, `{ ... }` (any of),
 * "quoted phrases", free words, and the operators
 *   from: to: cc: subject: label: has:attachment filename: in: is: rfc822msgid:
 *   after: before: older: newer: (epoch seconds, or YYYY/MM/DD read as midnight Pacific time,
 *   as the API guide says: "dates are interpreted as midnight on that date in the PST timezone").
 * STRICTER: any other `operator:` (larger:, older_than:, category:, ...) is refused with a 400
 * that says the emulator does not implement it, so a test cannot rely on an operator the
 * emulator would silently ignore.
 * ASSUMED: an unbalanced quote, parenthesis or brace is refused as "Invalid query" (Gmail's
 * own handling of malformed queries is not documented).
 */
import { zonedMidnight } from "@xo-foundry/core";

/** What a message offers to a search. */
export interface SearchDoc {
  readonly from: string;
  readonly to: string;
  readonly cc: string;
  readonly subject: string;
  /** The Message-ID header. */
  readonly messageId: string;
  readonly text: string;
  readonly filenames: readonly string[];
  readonly labelIds: readonly string[];
  /** Label names as users type them after `label:`. */
  readonly labelNames: readonly string[];
  readonly internalDate: number;
}

type Node =
  | { readonly kind: "and"; readonly nodes: readonly Node[] }
  | { readonly kind: "or"; readonly nodes: readonly Node[] }
  | { readonly kind: "not"; readonly node: Node }
  | { readonly kind: "op"; readonly name: string; readonly value: string }
  | { readonly kind: "text"; readonly value: string };

export class InvalidQuery extends Error {}

const OPERATORS = new Set(["from", "to", "cc", "subject", "label", "has", "filename", "in", "is", "rfc822msgid", "after", "before", "older", "newer"]);

/** Gmail's system labels by the words of `in:` and `is:`. */
const IN_LABELS: Readonly<Record<string, string | null>> = { inbox: "INBOX", sent: "SENT", drafts: "DRAFT", spam: "SPAM", trash: "TRASH", starred: "STARRED", important: "IMPORTANT", anywhere: null };
const IS_LABELS: Readonly<Record<string, { label: string; present: boolean }>> = {
  unread: { label: "UNREAD", present: true },
  read: { label: "UNREAD", present: false },
  starred: { label: "STARRED", present: true },
  important: { label: "IMPORTANT", present: true },
};

/** Parses `q`; throws InvalidQuery with Gmail's 400 text, or with what the emulator does not implement. */
export function parseQuery(q: string): (doc: SearchDoc) => boolean {
  const tokens = tokenize(q);
  let i = 0;
  const peek = () => tokens[i];
  const sequence = (end?: string): { kind: "and"; nodes: Node[] } => {
    const nodes: Node[] = [];
    while (i < tokens.length && peek() !== end) nodes.push(alternatives());
    if (end !== undefined) {
      if (peek() !== end) throw new InvalidQuery("Invalid query");
      i++;
    }
    return { kind: "and", nodes };
  };
  const alternatives = (): Node => {
    const nodes = [unary()];
    while (peek() === "OR") {
      i++;
      if (i >= tokens.length) throw new InvalidQuery("Invalid query");
      nodes.push(unary());
    }
    return nodes.length === 1 ? nodes[0]! : { kind: "or", nodes };
  };
  const unary = (): Node => {
    const token = tokens[i++];
    if (token === undefined || token === ")" || token === "}") throw new InvalidQuery("Invalid query");
    if (token === "-") return { kind: "not", node: unary() };
    if (token === "(") return sequence(")");
    if (token === "{") {
      return { kind: "or", nodes: sequence("}").nodes };
    }
    return term(token);
  };
  const root = sequence();
  return (doc) => evaluate(root, doc);
}

function tokenize(q: string): string[] {
  const tokens: string[] = [];
  let i = 0;
  while (i < q.length) {
    const c = q[i]!;
    if (/\s/.test(c)) {
      i++;
    } else if ("(){}".includes(c)) {
      tokens.push(c);
      i++;
    } else if (c === "-" && (i + 1 < q.length && !/\s/.test(q[i + 1]!))) {
      tokens.push("-");
      i++;
    } else {
      // A word runs to whitespace or a bracket; a quoted part inside it (subject:"a b") runs to its closing quote.
      let word = "";
      while (i < q.length && !/\s/.test(q[i]!) && !"(){}".includes(q[i]!)) {
        if (q[i] === '"') {
          const close = q.indexOf('"', i + 1);
          if (close < 0) throw new InvalidQuery("Invalid query");
          word += q.slice(i, close + 1);
          i = close + 1;
        } else {
          word += q[i++];
        }
      }
      tokens.push(word);
    }
  }
  return tokens;
}

function term(token: string): Node {
  const colon = /^([a-z][a-z0-9_]*):(.*)$/i.exec(token);
  if (colon) {
    const name = colon[1]!.toLowerCase();
    const value = unquote(colon[2]!);
    if (!OPERATORS.has(name)) throw new InvalidQuery(`the emulator does not implement the search operator ${name}: (STRICTER than Gmail)`);
    if (value === "") throw new InvalidQuery("Invalid query");
    validateOperator(name, value);
    return { kind: "op", name, value };
  }
  return { kind: "text", value: unquote(token) };
}

function validateOperator(name: string, value: string): void {
  const v = value.toLowerCase();
  if (name === "has" && v !== "attachment") throw new InvalidQuery(`the emulator does not implement has:${value} (STRICTER than Gmail)`);
  if (name === "in" && !(v in IN_LABELS)) throw new InvalidQuery(`the emulator does not implement in:${value} (STRICTER than Gmail)`);
  if (name === "is" && !(v in IS_LABELS)) throw new InvalidQuery(`the emulator does not implement is:${value} (STRICTER than Gmail)`);
  if (["after", "before", "older", "newer"].includes(name)) instant(value);
}

function unquote(text: string): string {
  return text.startsWith('"') && text.endsWith('"') && text.length >= 2 ? text.slice(1, -1) : text;
}

/** `after:`/`before:` values as epoch ms: all digits are epoch seconds, dates are midnight Pacific time. */
function instant(value: string): number {
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  const ymd = /^(\d{4})[/-](\d{1,2})[/-](\d{1,2})$/.exec(value);
  const mdy = /^(\d{1,2})\/(\d{1,2})\/(\d{4})$/.exec(value);
  const [y, m, d] = ymd ? [ymd[1], ymd[2], ymd[3]] : mdy ? [mdy[3], mdy[1], mdy[2]] : [];
  if (!y || !m || !d) throw new InvalidQuery("Invalid query");
  return Date.parse(zonedMidnight(`${y}-${m.padStart(2, "0")}-${d.padStart(2, "0")}`, "America/Los_Angeles"));
}

function evaluate(node: Node, doc: SearchDoc): boolean {
  switch (node.kind) {
    case "and":
      return node.nodes.every((n) => evaluate(n, doc));
    case "or":
      return node.nodes.some((n) => evaluate(n, doc));
    case "not":
      return !evaluate(node.node, doc);
    case "text":
      return containsWords([doc.from, doc.to, doc.cc, doc.subject, doc.text, ...doc.filenames].join("\n"), node.value);
    case "op":
      return operator(node.name, node.value, doc);
  }
}

function operator(name: string, value: string, doc: SearchDoc): boolean {
  const v = value.toLowerCase();
  switch (name) {
    // ASSUMED: an address operator matches a part of the header (a name, an address, a domain).
    case "from":
      return doc.from.toLowerCase().includes(v);
    // The discovery document's FilterCriteria.to: "Includes recipients in the to, cc, and bcc header fields".
    case "to":
      return `${doc.to}\n${doc.cc}`.toLowerCase().includes(v);
    case "cc":
      return doc.cc.toLowerCase().includes(v);
    // FilterCriteria.subject: "Case-insensitive phrase found in the message's subject".
    case "subject":
      return containsWords(doc.subject, value);
    // Gmail's help: spaces (and the slashes of nested labels) become dashes in label: searches.
    case "label":
      return doc.labelNames.some((n) => labelWord(n) === labelWord(value)) || doc.labelIds.some((id) => id.toLowerCase() === v);
    case "has":
      return doc.filenames.length > 0;
    // The q parameter's own example: "from:someuser@example.com rfc822msgid:<somemsgid@example.com> is:unread".
    case "rfc822msgid":
      return doc.messageId.replace(/^<|>$/g, "").toLowerCase() === v.replace(/^<|>$/g, "");
    // ASSUMED: a name, or an extension (filename:csv).
    case "filename":
      return doc.filenames.some((f) => f.toLowerCase() === v || f.toLowerCase().endsWith(`.${v}`) || f.toLowerCase().includes(v));
    case "in": {
      const label = IN_LABELS[v];
      return label === null || (label !== undefined && doc.labelIds.includes(label));
    }
    case "is": {
      const rule = IS_LABELS[v]!;
      return doc.labelIds.includes(rule.label) === rule.present;
    }
    // ASSUMED: after: includes its instant and before: excludes it, which is how the guide's
    // example reads ("after:2014/01/01 before:2014/02/01" is January 2014).
    case "after":
    case "newer":
      return doc.internalDate >= instant(value);
    case "before":
    case "older":
      return doc.internalDate < instant(value);
    default:
      return false;
  }
}

function labelWord(name: string): string {
  return name.toLowerCase().replace(/[\s/]+/g, "-");
}

/** Gmail matches words, not substrings: the words of `phrase` must appear one after another. */
function containsWords(haystack: string, phrase: string): boolean {
  const words = wordsOf(phrase);
  if (!words.length) return true;
  const hay = wordsOf(haystack);
  for (let i = 0; i + words.length <= hay.length; i++) if (words.every((w, j) => hay[i + j] === w)) return true;
  return false;
}

function wordsOf(text: string): string[] {
  return text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
}
