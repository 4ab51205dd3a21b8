/**
 * How the emulator shows a cell (CellData.formattedValue, valueRenderOption FORMATTED_VALUE,
 * dateTimeRenderOption FORMATTED_STRING): the part of Google's "Date and number formats" guide
 * (developers.google.com/workspace/sheets/api/guides/formats) that tests use, for the en_US
 * locale. Number patterns: `0`, `#`, `,` grouping, `.` decimals, `%`, literal text (quoted,
 * backslash-escaped, `$`, `[$€]`). Date-time patterns: `yyyy yy mmmm mmm mm m dddd ddd dd d
 * hh h mm m ss s .000 am/pm a/p [h] [m] [s]`. A pattern outside that fails when the cell is
 * defined, so a test never depends on an unrendered format. Patterns left out of a format take
 * the en_US defaults (ASSUMED: what the Sheets UI applies).
 */
import type { NumberFormatType } from "./sheets-api.js";

export interface NumberFormatSpec {
  readonly type: NumberFormatType;
  readonly pattern?: string;
}

const DEFAULT_PATTERNS: Readonly<Record<NumberFormatType, string>> = {
  TEXT: "@",
  NUMBER: "#,##0.00",
  PERCENT: "0.00%",
  CURRENCY: '"$"#,##0.00',
  DATE: "m/d/yyyy",
  TIME: "h:mm:ss am/pm",
  DATE_TIME: "m/d/yyyy h:mm:ss",
  SCIENTIFIC: "0.00E+00",
};

const SERIAL_EPOCH_MS = Date.UTC(1899, 11, 30);
const MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];
const DAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];

/** The text Sheets shows for `value` under `format` (none: the Automatic format). */
export function formatValue(value: number | string | boolean, format: NumberFormatSpec | undefined): string {
  if (typeof value === "string") return value;
  if (typeof value === "boolean") return value ? "TRUE" : "FALSE";
  if (!format || format.type === "TEXT") return automatic(value);
  const pattern = format.pattern ?? DEFAULT_PATTERNS[format.type];
  return isDatePattern(pattern) ? formatDateTime(value, pattern) : formatNumber(value, pattern);
}

/** Throws when `format` is beyond what this file renders. */
export function checkRenderable(format: NumberFormatSpec): void {
  if (format.type === "SCIENTIFIC") throw new Error("the emulator does not render SCIENTIFIC formats");
  formatValue(46037.5, format);
}

/** Sheets' Automatic format: whole numbers as they are, others to 10 significant digits. */
function automatic(n: number): string {
  if (Number.isInteger(n)) return String(n);
  return String(Number(n.toPrecision(10)));
}

function isDatePattern(pattern: string): boolean {
  return /[ydhs]|\[[hms]\]|am\/pm|a\/p/i.test(stripLiterals(pattern)) || /^m+([^0#]|$)/i.test(stripLiterals(pattern));
}

function stripLiterals(pattern: string): string {
  return pattern.replace(/"[^"]*"|\\.|\[\$[^\]]*\]/g, "");
}

/** Splits a number pattern into literal prefix, digit placeholders and literal suffix. */
function formatNumber(value: number, pattern: string): string {
  const section = pattern.split(";")[0]!;
  let prefix = "";
  let suffix = "";
  let digits = "";
  let percent = false;
  for (let i = 0; i < section.length; i++) {
    const ch = section[i]!;
    let literal: string | undefined;
    if (ch === '"') {
      const end = section.indexOf('"', i + 1);
      literal = section.slice(i + 1, end);
      i = end;
    } else if (ch === "\\") {
      literal = section[++i] ?? "";
    } else if (ch === "[" && section[i + 1] === "$") {
      const end = section.indexOf("]", i);
      literal = section.slice(i + 2, end).split("-")[0]!;
      i = end;
    } else if ("0#,.".includes(ch)) {
      digits += ch;
      continue;
    } else if (ch === "%") {
      percent = true;
      literal = "%";
    } else if ("$ -()€£¥".includes(ch)) {
      literal = ch;
    } else {
      throw new Error(`the emulator does not render number pattern ${JSON.stringify(pattern)} (at ${JSON.stringify(ch)})`);
    }
    if (digits === "") prefix += literal;
    else suffix += literal;
  }
  const [integerPart = "", decimalPart = ""] = digits.split(".");
  const maxDecimals = decimalPart.replace(/,/g, "").length;
  const minDecimals = (decimalPart.match(/0/g) ?? []).length;
  const grouping = integerPart.includes(",");
  const scaled = Math.abs(percent ? value * 100 : value);
  let [whole = "0", fraction = ""] = scaled.toFixed(maxDecimals).split(".");
  while (fraction.length > minDecimals && fraction.endsWith("0")) fraction = fraction.slice(0, -1);
  const minWhole = (integerPart.match(/0/g) ?? []).length;
  if (whole === "0" && minWhole === 0) whole = "";
  whole = whole.padStart(minWhole, "0");
  if (grouping) whole = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  const sign = value < 0 ? "-" : "";
  return `${sign}${prefix}${whole}${fraction ? `.${fraction}` : ""}${suffix}`;
}

/** Renders a serial number with a date-time pattern. */
function formatDateTime(serial: number, pattern: string): string {
  const ms = SERIAL_EPOCH_MS + Math.round(serial * 86_400_000);
  const d = new Date(ms);
  const [Y, M, D, h, m, s, f, wd] = [d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds(), d.getUTCMilliseconds(), d.getUTCDay()];
  const tokens = tokenize(pattern);
  const twelveHour = tokens.some((t) => t.kind === "ampm");
  const elapsedSeconds = Math.floor(Math.round(serial * 86_400_000) / 1000);
  const pad = (n: number, w = 2) => String(n).padStart(w, "0");
  return tokens
    .map((t, i): string => {
      switch (t.kind) {
        case "literal":
          return t.text;
        case "ampm":
          return t.text === "a/p" || t.text === "A/P" ? (h < 12 ? "a" : "p") : h < 12 ? (t.text === "AM/PM" ? "AM" : "am") : t.text === "AM/PM" ? "PM" : "pm";
        case "elapsed":
          return t.text === "h" ? String(Math.floor(elapsedSeconds / 3600)) : t.text === "m" ? String(Math.floor(elapsedSeconds / 60)) : String(elapsedSeconds);
        case "fraction":
          return `.${pad(f, 3).slice(0, t.text.length - 1)}`;
        case "field": {
          const x = t.text.toLowerCase();
          if (x[0] === "y") return x.length <= 2 ? pad(Y % 100) : String(Y);
          if (x[0] === "d") return x.length === 1 ? String(D) : x.length === 2 ? pad(D) : x.length === 3 ? DAYS[wd]!.slice(0, 3) : DAYS[wd]!;
          if (x[0] === "h") {
            const hour = twelveHour ? h % 12 || 12 : h;
            return x.length === 1 ? String(hour) : pad(hour);
          }
          if (x[0] === "s") return x.length === 1 ? String(s) : pad(s);
          // `m` is minutes after an hour or before a second, else the month.
          const prev = tokens.slice(0, i).reverse().find((p) => p.kind === "field");
          const next = tokens.slice(i + 1).find((p) => p.kind === "field" || p.kind === "elapsed");
          const isMinute = prev?.text.toLowerCase().startsWith("h") || next?.text.toLowerCase().startsWith("s") || (prev?.kind === "elapsed" && prev.text === "h");
          if (isMinute) return x.length === 1 ? String(m) : pad(m);
          return x.length === 1 ? String(M + 1) : x.length === 2 ? pad(M + 1) : x.length === 3 ? MONTHS[M]!.slice(0, 3) : MONTHS[M]!;
        }
      }
    })
    .join("");
}

type Token = { kind: "field" | "literal" | "ampm" | "elapsed" | "fraction"; text: string };

function tokenize(pattern: string): Token[] {
  const tokens: Token[] = [];
  for (let i = 0; i < pattern.length; ) {
    const rest = pattern.slice(i);
    const ampm = /^(am\/pm|AM\/PM|a\/p|A\/P)/.exec(rest);
    const field = /^(y+|m+|d+|h+|s+)/i.exec(rest);
    const elapsed = /^\[([hms])\]/.exec(rest);
    const fraction = /^\.0+/.exec(rest);
    if (ampm) {
      tokens.push({ kind: "ampm", text: ampm[1]! });
      i += ampm[1]!.length;
    } else if (field) {
      tokens.push({ kind: "field", text: field[1]! });
      i += field[1]!.length;
    } else if (elapsed) {
      tokens.push({ kind: "elapsed", text: elapsed[1]! });
      i += elapsed[0].length;
    } else if (fraction) {
      tokens.push({ kind: "fraction", text: fraction[0] });
      i += fraction[0].length;
    } else if (rest[0] === '"') {
      const end = pattern.indexOf('"', i + 1);
      tokens.push({ kind: "literal", text: pattern.slice(i + 1, end) });
      i = end + 1;
    } else if (rest[0] === "\\") {
      tokens.push({ kind: "literal", text: rest[1] ?? "" });
      i += 2;
    } else if (/^[\s/:,.\-()]/.test(rest)) {
      tokens.push({ kind: "literal", text: rest[0]! });
      i += 1;
    } else {
      throw new Error(`the emulator does not render date pattern ${JSON.stringify(pattern)} (at ${JSON.stringify(rest[0])})`);
    }
  }
  return tokens;
}
