/**
 * Partition locks (ADR 8). An extract or load task holds the lock of the stream
 * partition it writes or reads, so two runs of one pipeline and date never delete
 * each other's files. A lock is a folder of small JSON objects in the landing zone,
 *
 *   <landing>/locks/<pipeline>/<stream>/<strategy>/<partition>/lock-000000000007.json
 *
 * one per generation. Taking the lock means creating the next generation with the
 * store's create-only write (a hard link on disk, `If-None-Match: *` on S3), which
 * exactly one contender wins, and then seeing that no newer generation exists; a
 * generation is free once it is released, expired (no heartbeat for the time to
 * live) or held by a process on this machine that no longer exists. Nothing is ever
 * deleted or replaced to take a lock over, so no contender can remove a lock that
 * another has just taken; the holder removes older generations.
 */
import { randomUUID } from "node:crypto";
import { readlinkSync } from "node:fs";
import os from "node:os";
import { joinUri, sleep, xoError, type LandingStore, type Logger } from "@xo-foundry/core";

export const DEFAULT_LOCK_TTL_SECONDS = 120;
/** A contender waits this much longer than the time to live, so a dead holder's lock always expires while it waits. */
const WAIT_MARGIN_SECONDS = 30;

export interface LockTiming {
  /** A lock without a heartbeat for this long is free. */
  readonly ttlMs: number;
  /** How long a task waits for a held lock before it gives up. */
  readonly waitMs: number;
}

/** `XO_LOCK_TTL_SECONDS` and `XO_LOCK_WAIT_SECONDS`, with their defaults. */
export function lockTiming(env: NodeJS.ProcessEnv): LockTiming {
  const seconds = (name: string, fallback: number, min: number) => {
    const raw = env[name];
    if (raw === undefined || raw.trim() === "") return fallback;
    const value = Number(raw);
    if (!Number.isFinite(value) || value < min) {
      throw xoError("XO_CONFIG_INVALID_VALUE", { detail: `${name} must be a number of seconds${min > 0 ? " above 0" : ""}`, found: JSON.stringify(raw) });
    }
    return value;
  };
  const ttl = seconds("XO_LOCK_TTL_SECONDS", DEFAULT_LOCK_TTL_SECONDS, 0.1);
  const wait = seconds("XO_LOCK_WAIT_SECONDS", ttl + WAIT_MARGIN_SECONDS, 0);
  return { ttlMs: ttl * 1000, waitMs: wait * 1000 };
}

export interface LockOwner {
  readonly pipeline: string;
  readonly stream: string;
  /** `<strategy>/<partition>`, e.g. `incremental/date=2026-01-15`. */
  readonly partition: string;
  readonly runId: string;
  readonly task: string;
}

export interface LockRecord extends LockOwner {
  readonly version: 1;
  readonly generation: number;
  readonly token: string;
  readonly host: string;
  readonly pid: number;
  /** Linux: the pid namespace, so a container that shares the host name never judges another's pids. */
  readonly pidNamespace?: string;
  readonly acquiredAt: string;
  readonly heartbeatAt: string;
  readonly expiresAt: string;
  readonly releasedAt?: string;
}

export interface HeldLock {
  /** The lock folder. */
  readonly uri: string;
  /** Aborts, with XO_LANDING_LOCK_LOST, when a heartbeat finds that another run took the lock over. */
  readonly signal: AbortSignal;
  /** Throws XO_LANDING_LOCK_LOST unless this task still holds the lock: call it before writing shared files. */
  check(): Promise<void>;
  release(): Promise<void>;
}

export function lockFolder(landingRoot: string, owner: Pick<LockOwner, "pipeline" | "stream" | "partition">): string {
  return joinUri(landingRoot, "locks", owner.pipeline, owner.stream, owner.partition);
}

const GENERATION = /\/lock-(\d{12})\.json$/;
const generationUri = (folder: string, generation: number) => joinUri(folder, `lock-${String(generation).padStart(12, "0")}.json`);

interface Current {
  readonly generation: number;
  /** Undefined when the object is not a lock record (then it is free). */
  readonly record: LockRecord | undefined;
}

/** The newest generation in the folder, or undefined for an empty folder. */
async function latest(store: LandingStore, folder: string): Promise<Current | undefined> {
  for (;;) {
    const generations = (await store.list(folder))
      .map((o) => GENERATION.exec(o.uri))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => Number(m[1]));
    if (generations.length === 0) return undefined;
    const generation = Math.max(...generations);
    const text = await store.readText(generationUri(folder, generation));
    // Removed between list and read: it was an old generation, look again.
    if (text === undefined) continue;
    return { generation, record: parseRecord(text) };
  }
}

function parseRecord(text: string): LockRecord | undefined {
  try {
    const value = JSON.parse(text) as Partial<LockRecord>;
    return value.version === 1 && typeof value.expiresAt === "string" && typeof value.pid === "number" ? (value as LockRecord) : undefined;
  } catch {
    return undefined;
  }
}

let namespace: string | undefined | null = null;
function pidNamespace(): string | undefined {
  if (namespace === null) {
    try {
      namespace = readlinkSync("/proc/self/ns/pid");
    } catch {
      namespace = undefined;
    }
  }
  return namespace;
}

/** True when the holder is a process of this machine (and pid namespace) that no longer exists. */
function holderIsGone(record: LockRecord): boolean {
  if (record.host !== os.hostname() || record.pidNamespace !== pidNamespace()) return false;
  if (record.pid === process.pid) return false;
  try {
    process.kill(record.pid, 0);
    return false;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "ESRCH";
  }
}

/** Why a generation may be taken over, or undefined while its holder lives. */
function freeBecause(current: Current | undefined, now: number): string | undefined {
  if (!current) return "none";
  const r = current.record;
  if (!r) return "unreadable";
  if (r.releasedAt !== undefined) return "released";
  if (Date.parse(r.expiresAt) <= now) return `its heartbeat stopped at ${r.heartbeatAt}`;
  if (holderIsGone(r)) return "its process is gone";
  return undefined;
}

export function describeHolder(r: LockRecord): string {
  return `run ${JSON.stringify(r.runId)} (task ${JSON.stringify(r.task)}, pid ${r.pid} on ${r.host}, since ${r.acquiredAt}, last heartbeat ${r.heartbeatAt})`;
}

export interface AcquireInput {
  readonly store: LandingStore;
  readonly landingRoot: string;
  readonly owner: LockOwner;
  readonly timing: LockTiming;
  readonly log: Logger;
  readonly signal: AbortSignal;
}

/**
 * Takes the partition's lock, waiting up to `timing.waitMs` for a live holder.
 * Stores without a create-only write run unlocked (with a warning): nothing else
 * they offer can make two contenders agree.
 */
export async function acquirePartitionLock(input: AcquireInput): Promise<HeldLock> {
  const { store, owner, timing, log } = input;
  const folder = lockFolder(input.landingRoot, owner);
  if (!store.createText) {
    log.warn("this landing store cannot create objects exclusively; running without a partition lock");
    return { uri: folder, signal: new AbortController().signal, check: async () => {}, release: async () => {} };
  }
  const create = store.createText.bind(store);
  const started = Date.now();
  const poll = Math.min(1_000, Math.max(50, timing.ttlMs / 10));
  let announced = false;

  for (;;) {
    input.signal.throwIfAborted();
    const current = await latest(store, folder);
    const now = Date.now();
    const free = freeBecause(current, now);
    if (free !== undefined) {
      const generation = (current?.generation ?? 0) + 1;
      const record = newRecord(owner, generation, timing.ttlMs);
      if (await create(generationUri(folder, generation), JSON.stringify(record))) {
        // A contender that read an old listing can still create an old generation: only the newest one holds.
        if ((await latest(store, folder))?.generation === generation) {
          if (current?.record && !["none", "released", "unreadable"].includes(free)) {
            log.warn(`taking over the lock of ${describeHolder(current.record).replace(/, since .*\)$/, ")")}: ${free}`);
          }
          await removeOlderGenerations(store, folder, generation, log);
          return hold(store, folder, record, timing, log);
        }
        await store.writeText(generationUri(folder, generation), JSON.stringify({ ...record, releasedAt: new Date().toISOString() }));
      }
      continue;
    }
    const holder = current!.record!;
    const waited = now - started;
    if (waited >= timing.waitMs) {
      throw xoError("XO_LANDING_LOCKED", {
        task: owner.task,
        runId: owner.runId,
        stream: owner.stream,
        partition: owner.partition,
        holder: describeHolder(holder),
        expiresAt: holder.expiresAt,
        lock: folder,
        waitedSeconds: Math.round(waited / 1000),
      });
    }
    if (!announced) {
      announced = true;
      log.warn(`waiting up to ${Math.round(timing.waitMs / 1000)} s for stream ${JSON.stringify(owner.stream)} partition ${owner.partition}, in use by ${describeHolder(holder)}`);
    }
    // Jitter keeps waiting contenders from polling in step.
    await sleep(Math.min(poll * (0.75 + Math.random() / 2), timing.waitMs - waited + 1), input.signal);
  }
}

function newRecord(owner: LockOwner, generation: number, ttlMs: number): LockRecord {
  const now = Date.now();
  const ns = pidNamespace();
  return {
    version: 1,
    generation,
    token: randomUUID(),
    ...owner,
    host: os.hostname(),
    pid: process.pid,
    ...(ns !== undefined ? { pidNamespace: ns } : {}),
    acquiredAt: new Date(now).toISOString(),
    heartbeatAt: new Date(now).toISOString(),
    expiresAt: new Date(now + ttlMs).toISOString(),
  };
}

/** Older generations are dead by construction; removing them keeps one object per partition. */
async function removeOlderGenerations(store: LandingStore, folder: string, generation: number, log: Logger): Promise<void> {
  try {
    for (const o of await store.list(folder)) {
      const m = GENERATION.exec(o.uri);
      if (m && Number(m[1]) < generation) await store.deletePrefix(o.uri);
    }
  } catch (e) {
    log.debug(`could not remove old lock objects: ${(e as Error).message}`);
  }
}

function hold(store: LandingStore, folder: string, taken: LockRecord, timing: LockTiming, log: Logger): HeldLock {
  const uri = generationUri(folder, taken.generation);
  const lost = new AbortController();
  let record = taken;

  const check = async () => {
    const current = await latest(store, folder);
    if (current?.generation === record.generation && current.record?.token === record.token) return;
    const by = current?.record ? describeHolder(current.record) : "another run (its lock object is unreadable or gone)";
    throw xoError("XO_LANDING_LOCK_LOST", { task: record.task, stream: record.stream, partition: record.partition, holder: by });
  };

  let beating: Promise<void> | undefined;
  const beat = async () => {
    try {
      await check();
      const now = Date.now();
      record = { ...record, heartbeatAt: new Date(now).toISOString(), expiresAt: new Date(now + timing.ttlMs).toISOString() };
      await store.writeText(uri, JSON.stringify(record));
    } catch (e) {
      if ((e as { code?: string }).code === "XO_LANDING_LOCK_LOST") lost.abort(e);
      else log.warn(`could not renew the partition lock ${uri}: ${(e as Error).message}`);
    }
  };
  const timer = setInterval(() => {
    beating ??= beat().finally(() => (beating = undefined));
  }, Math.max(25, timing.ttlMs / 4));
  timer.unref();

  return {
    uri: folder,
    signal: lost.signal,
    check,
    async release() {
      clearInterval(timer);
      await beating;
      if (lost.signal.aborted) return;
      try {
        await store.writeText(uri, JSON.stringify({ ...record, releasedAt: new Date().toISOString() }));
      } catch (e) {
        // The lock still expires by itself after its time to live.
        log.warn(`could not release the partition lock ${uri}: ${(e as Error).message}`);
      }
    },
  };
}
