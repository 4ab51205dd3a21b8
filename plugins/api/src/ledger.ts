/**
 * The delivery ledger: the keys of the batches the API answered for good (accepted, or
 * refused record by record), for one logical date, in the step's own state
 * (`send__<task id>`: `{ logicalDate, sent: [keys] }`). A re-run of the date skips them.
 *
 * It is saved after every answered batch. `set` replaces the whole value, about 40 bytes a
 * batch, so a run of n batches writes O(n²) bytes of state: some 20 MB for 1,000 batches
 * (raise `batch_size` beyond that). Saving less often would lose more entries to a kill,
 * and each lost entry is a batch sent again: harmless with idempotency keys, a duplicate
 * without them.
 *
 * It holds one date. A run of another date (a backfill, an older date cleared in Airflow)
 * starts a fresh ledger, so a later re-run of the first date sends its batches again, with
 * the same keys, and relies on the API to deduplicate them.
 */
import { stepStateKey, type JsonObject, type StepContext } from "@xo-foundry/core";

export class DeliveryLedger {
  private constructor(
    private readonly ctx: Pick<StepContext, "state" | "runId" | "window">,
    private readonly key: string,
    private readonly sent: Set<string>,
  ) {}

  static async open(ctx: Pick<StepContext, "state" | "runId" | "window" | "taskId" | "log">): Promise<DeliveryLedger> {
    const key = stepStateKey("send", ctx.taskId);
    const saved = (await ctx.state.get(key))?.value;
    const date = ctx.window.logicalDate;
    const sameDate = saved?.logicalDate === date && Array.isArray(saved.sent);
    if (saved && !sameDate && typeof saved.logicalDate === "string") {
      ctx.log.info(`delivery ledger: starting ${date} (the saved ledger was of ${saved.logicalDate})`);
    }
    const keys = sameDate ? (saved.sent as readonly unknown[]).filter((k): k is string => typeof k === "string") : [];
    return new DeliveryLedger(ctx, key, new Set(keys));
  }

  /** The state key, for messages and tests. */
  get stateKey(): string {
    return this.key;
  }

  get size(): number {
    return this.sent.size;
  }

  has(batchKey: string): boolean {
    return this.sent.has(batchKey);
  }

  /** Records an answered batch; resolves once the ledger is saved. */
  async add(batchKey: string): Promise<void> {
    if (this.sent.has(batchKey)) return;
    this.sent.add(batchKey);
    const value: JsonObject = { logicalDate: this.ctx.window.logicalDate, sent: [...this.sent] };
    await this.ctx.state.set(this.key, value, { runId: this.ctx.runId, logicalDate: this.ctx.window.logicalDate });
  }
}
