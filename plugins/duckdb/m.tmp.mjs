import { DuckDBInstance } from "@duckdb/node-api";
import { rmSync } from "node:fs";
const [mode, mem, pio] = process.argv.slice(2);
rmSync("/tmp/xo-mem/w.duckdb", { force: true }); rmSync("/tmp/xo-mem/w.duckdb.wal", { force: true });
const opts = {};
if (mem !== "none") opts.memory_limit = mem;
if (pio && pio !== "-") opts.preserve_insertion_order = pio; if (process.env.TH) opts.threads = process.env.TH;
const inst = await DuckDBInstance.create("/tmp/xo-mem/w.duckdb", opts);
const c = await inst.connect();
const files = (process.env.NF ? [...Array(Number(process.env.NF)).keys()] : [0,1,2,3]).map(i => `'/tmp/xo-mem/part-0000${i}.ndjson'`).join(",");
const t0 = Date.now();
const cols = "{id: BIGINT, customer_id: BIGINT, status: VARCHAR, amount: DOUBLE, currency: VARCHAR, created_at: TIMESTAMP, updated_at: TIMESTAMP, note: VARCHAR, gift: BOOLEAN, quantity: BIGINT}";
if (mode === "typed") { await c.run("begin"); await c.run(`create table t as select *, 'p' as _xo_partition, current_date as d from read_ndjson([${files}], columns=${cols}, format='newline_delimited')`); await c.run("commit"); }
if (mode === "direct") await c.run(`create table t as select * from read_ndjson([${files}], union_by_name=true)`);
if (mode === "meta") { await c.run("begin"); await c.run(`create table t as select *, 'p' as _xo_partition, current_date as d from read_ndjson([${files}], union_by_name=true)`); await c.run("commit"); }
if (mode === "stage") { await c.run("begin"); await c.run(`create temp table s as select *, 'p' as _xo_partition from read_ndjson([${files}], union_by_name=true)`); await c.run("create table t as select * from s"); await c.run("commit"); }
console.log(mode, mem, pio, Date.now() - t0, "ms");
c.closeSync(); inst.closeSync();
