/**
 * Rows parked on disk between reading a sheet and converting it. A column's type is known
 * only once every row has been seen (a date column with one note in row 40,000 is text), but
 * a sheet can be larger than memory should hold, so each batch from the API is appended here
 * and read back once the types are decided. One JSON array per line: `[row, cells]`.
 */
import { once } from "node:events";
import { createReadStream, createWriteStream, type WriteStream } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";

export interface SpooledRow {
  /** The row's number in the sheet, 1-based, as the sheet shows it. */
  readonly row: number;
  readonly cells: readonly unknown[];
}

export class RowSpool {
  private out: WriteStream | undefined;
  rows = 0;

  private constructor(
    private readonly dir: string,
    private readonly file: string,
  ) {}

  static async open(): Promise<RowSpool> {
    const dir = await mkdtemp(join(tmpdir(), "xo-sheets-"));
    return new RowSpool(dir, join(dir, "rows.ndjson"));
  }

  async append(rows: readonly SpooledRow[]): Promise<void> {
    if (rows.length === 0) return;
    this.out ??= createWriteStream(this.file, { flags: "a" });
    const text = rows.map((r) => `${JSON.stringify([r.row, r.cells])}\n`).join("");
    this.rows += rows.length;
    if (!this.out.write(text)) await once(this.out, "drain");
  }

  /** Every row appended, in order. */
  async *read(): AsyncGenerator<SpooledRow> {
    await this.close();
    if (this.rows === 0) return;
    const lines = createInterface({ input: createReadStream(this.file, { encoding: "utf8" }), crlfDelay: Infinity });
    try {
      for await (const line of lines) {
        if (line === "") continue;
        const [row, cells] = JSON.parse(line) as [number, unknown[]];
        yield { row, cells };
      }
    } finally {
      lines.close();
    }
  }

  /** Removes the file; safe to call more than once. */
  async dispose(): Promise<void> {
    await this.close().catch(() => {});
    await rm(this.dir, { recursive: true, force: true });
  }

  private async close(): Promise<void> {
    const out = this.out;
    if (!out || out.closed) return;
    out.end();
    await once(out, "close");
  }
}
