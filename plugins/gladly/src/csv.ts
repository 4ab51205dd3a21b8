/**
 * Counts CSV records while the bytes stream past, without parsing fields: a record
 * ends at a newline outside double quotes. `""` inside a quoted field toggles the
 * state twice, so it needs no special case. UTF-8 never uses the bytes for `"`,
 * `\r` or `\n` inside a multi-byte character, so working on raw bytes is safe.
 */
const QUOTE = 0x22;
const LF = 0x0a;
const CR = 0x0d;

export class CsvRowCounter {
  private inQuotes = false;
  private lineHasContent = false;
  private records = 0;

  push(chunk: Uint8Array): void {
    for (let i = 0; i < chunk.length; i++) {
      const byte = chunk[i]!;
      if (byte === QUOTE) {
        this.inQuotes = !this.inQuotes;
        this.lineHasContent = true;
      } else if (byte === LF) {
        if (this.inQuotes) continue;
        if (this.lineHasContent) this.records++;
        this.lineHasContent = false;
      } else if (byte !== CR || this.inQuotes) {
        this.lineHasContent = true;
      }
    }
  }

  /** Records seen so far, header included; a last line without a newline counts. */
  get totalRecords(): number {
    return this.records + (this.lineHasContent ? 1 : 0);
  }

  /** Data rows: every record after the header. */
  get dataRows(): number {
    return Math.max(0, this.totalRecords - 1);
  }

  /** True when the input ended inside a quoted field, i.e. the body was cut off. */
  get unterminatedQuote(): boolean {
    return this.inQuotes;
  }
}
