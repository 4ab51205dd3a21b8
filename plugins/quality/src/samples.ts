/**
 * Failing rows as a check's summary shows them: a few, narrow, short, and never a secret.
 * Summaries travel to XCom, logs and alerts, where nobody expects customer data to be
 * complete: a value is cut at SAMPLE_TEXT_LIMIT characters; a value in a column whose name
 * says it holds credentials, or a value that looks like one (a token, a key, a JWT, a URL
 * with a password), is replaced whole by `***`; and core's redactor masks every secret the
 * run knows (connection passwords and tokens).
 */
import { redact, type JsonObject, type JsonValue } from "@xo-foundry/core";

export const MAX_SAMPLES = 5;
/** Columns kept per sample row: the check's own first, then the others in table order. */
export const MAX_SAMPLE_COLUMNS = 10;
export const SAMPLE_TEXT_LIMIT = 64;
export const MASK = "***";

const SECRET_NAME = /password|passwd|passphrase|secret|token|api_?key|private_?key|credential|authorization|cookie|session_?id|card_?number|cvv|cvc|iban|ssn/;
const SECRET_WORD = new Set(["pass", "pwd", "auth", "pin"]);

/** Whether a column's name says it holds credentials or card data: `api_key`, `userPassword`, `auth`. */
export function secretColumn(column: string): boolean {
  const snake = column.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toLowerCase();
  return SECRET_NAME.test(snake) || snake.split(/[^a-z0-9]+/).some((word) => SECRET_WORD.has(word));
}

const SECRET_VALUE: readonly RegExp[] = [
  /-----BEGIN [A-Z ]*PRIVATE KEY-----/,
  /^eyJ[\w-]+\.[\w-]+\.[\w-]*$/, // a JWT
  /\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/, // an AWS access key id
  /\b(?:sk|rk|pk)_(?:live|test)_[0-9A-Za-z]{8,}/, // Stripe
  /\bgh[pousr]_[0-9A-Za-z]{20,}|\bgithub_pat_\w{20,}/, // GitHub
  /\bxox[abposr]-[0-9A-Za-z-]{10,}/, // Slack
  /\bAIza[0-9A-Za-z_-]{30,}/, // Google API key
  /\bpat-[a-z]{2}\d-[0-9a-f-]{20,}/, // HubSpot private app token
  /\b(?:Bearer|Basic)\s+[\w.~+/=-]{8,}/i,
  /^[a-z][a-z0-9+.-]*:\/\/[^/\s:@]+:[^/\s@]+@/i, // a URL with a password
];

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A long run of letters and digits with the spread of a random token (an API key, a password hash). */
function looksRandom(text: string): boolean {
  if (text.length < 24 || !/^[\w+/=.~-]+$/.test(text) || UUID.test(text)) return false;
  if (!/[0-9]/.test(text) || !/[A-Za-z]/.test(text)) return false;
  const counts = new Map<string, number>();
  for (const c of text) counts.set(c, (counts.get(c) ?? 0) + 1);
  let entropy = 0;
  for (const n of counts.values()) entropy -= (n / text.length) * Math.log2(n / text.length);
  return entropy >= 3.5;
}

export function looksSecret(text: string): boolean {
  return SECRET_VALUE.some((p) => p.test(text)) || looksRandom(text);
}

function shorten(text: string): string {
  const chars = [...text];
  return chars.length > SAMPLE_TEXT_LIMIT ? `${chars.slice(0, SAMPLE_TEXT_LIMIT - 1).join("")}…` : text;
}

/** One value as a sample shows it. Lists and objects become their JSON text, cut short like any text. */
export function protectValue(column: string, value: JsonValue): JsonValue {
  if (value === null || typeof value === "boolean") return value;
  if (secretColumn(column)) return MASK;
  if (typeof value === "number") return value;
  const text = typeof value === "string" ? value : JSON.stringify(value);
  if (looksSecret(text)) return MASK;
  const masked = redact(text);
  return shorten(masked);
}

/** Whether a column is one the loads add (`_xo_loaded_at`), which says nothing about why a row failed. */
function isMetadata(column: string): boolean {
  return /^_xo_/i.test(column);
}

/** Sample rows: the first MAX_SAMPLES, the `focus` columns first, at most MAX_SAMPLE_COLUMNS, every value protected. */
export function sampleRows(rows: readonly JsonObject[], focus: readonly string[] = []): JsonObject[] {
  return rows.slice(0, MAX_SAMPLES).map((row) => {
    const keys = Object.keys(row).filter((k) => !isMetadata(k) || focus.includes(k));
    const ordered = [...focus.filter((k) => keys.includes(k)), ...keys.filter((k) => !focus.includes(k))].slice(0, MAX_SAMPLE_COLUMNS);
    return Object.fromEntries(ordered.map((k) => [redact(k), protectValue(k, row[k] ?? null)]));
  });
}
