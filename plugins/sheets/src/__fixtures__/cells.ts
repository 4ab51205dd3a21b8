/**
 * Cells as tests define them for the emulator: a value (number, text, boolean, or a formula
 * error) and the number format Sheets would hold for it, the way a person's typing leaves them
 * (typing `2026-01-15` stores a serial number and a DATE format). Dates here are written as ISO
 * text and stored as serial numbers, days since 1899-12-30 with the time as the fraction (the
 * DateTimeRenderOption SERIAL_NUMBER description in the discovery document).
 */
import { checkRenderable, type NumberFormatSpec } from "./cell-format.js";
import type { ErrorType } from "./sheets-api.js";

export type CellValue = number | string | boolean | { readonly error: ErrorType };

export interface Cell {
  readonly value?: CellValue;
  readonly format?: NumberFormatSpec;
  /** What the user typed when it was a formula (valueRenderOption FORMULA returns it). */
  readonly formula?: string;
}

/** A cell, or shorthand: text, a number or a boolean with the default format; null or undefined for blank. */
export type CellInput = Cell | string | number | boolean | null | undefined;

export function toCell(input: CellInput): Cell | undefined {
  if (input === null || input === undefined) return undefined;
  if (typeof input === "object") {
    if (input.format) checkRenderable(input.format);
    return input;
  }
  return { value: input };
}

/** Serial number of an ISO date or wall-clock date-time (`2026-01-15`, `2026-01-15T09:30:00.250`). */
export function serialOf(iso: string): number {
  const [date = "", clock = "00:00:00"] = iso.split("T");
  const [y, m, d] = date.split("-").map(Number) as [number, number, number];
  const [hh, mm, ss] = clock.split(":").map(Number) as [number, number, number];
  const days = (Date.UTC(y, m - 1, d) - Date.UTC(1899, 11, 30)) / 86_400_000;
  return days + (hh * 3600 + mm * 60 + ss) / 86_400;
}

export const date = (iso: string, pattern = "yyyy-mm-dd"): Cell => ({ value: serialOf(iso), format: { type: "DATE", pattern } });
export const dateTime = (iso: string, pattern = "yyyy-mm-dd hh:mm:ss"): Cell => ({ value: serialOf(iso), format: { type: "DATE_TIME", pattern } });
export const time = (clock: string, pattern = "hh:mm:ss"): Cell => ({ value: serialOf(`1899-12-30T${clock}`), format: { type: "TIME", pattern } });
export const percent = (fraction: number, pattern = "0.00%"): Cell => ({ value: fraction, format: { type: "PERCENT", pattern } });
export const currency = (amount: number, pattern = '"$"#,##0.00'): Cell => ({ value: amount, format: { type: "CURRENCY", pattern } });
export const number = (n: number, pattern = "#,##0.00"): Cell => ({ value: n, format: { type: "NUMBER", pattern } });
/** Text in a cell formatted as plain text, as `'00123` or Format > Number > Plain text leaves it. */
export const text = (s: string): Cell => ({ value: s, format: { type: "TEXT" } });
export const formulaError = (error: ErrorType, formula = "=1/0"): Cell => ({ value: { error }, formula });
