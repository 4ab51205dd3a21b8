/**
 * `pipeline.timezone`: a name of the tz database, spelled exactly as there. Airflow hands
 * it to pendulum, which opens the zone file of that name and knows no other spelling;
 * Intl (and so Temporal) is laxer: it folds case (`america/new_york`) and still resolves
 * zones the tz database has removed (`US/Pacific-New`). So a name must be in the tz
 * database the pinned Airflow reads (tzdata.ts), or UTC in any case as pendulum takes it,
 * and known to this Node.js, which computes the data windows.
 */
import { z } from "zod";
import { suggestName } from "../registry.js";
import { TZDATA_NAMES, TZDATA_VERSION } from "./tzdata.js";

const NAMES: ReadonlySet<string> = new Set(TZDATA_NAMES);
const BY_FOLDED_CASE: ReadonlyMap<string, string> = new Map(TZDATA_NAMES.map((n) => [n.toLowerCase(), n]));

const EXPECTED = "expected a time zone of the tz database, spelled as there, such as UTC or America/New_York";

/** Intl's answer per name; building a DateTimeFormat is slow, and a run asks about one zone many times. */
const intlZones = new Map<string, string | undefined>();

/** The zone Intl resolves `tz` to, or undefined when Intl does not know it. */
function intlZone(tz: string): string | undefined {
  if (intlZones.has(tz)) return intlZones.get(tz);
  let zone: string | undefined;
  try {
    zone = new Intl.DateTimeFormat("en-US", { timeZone: tz }).resolvedOptions().timeZone;
  } catch {
    zone = undefined;
  }
  intlZones.set(tz, zone);
  return zone;
}

/** Why Airflow would refuse `tz`, with the name that was probably meant; undefined when it is fine. */
export function timeZoneProblem(tz: string): { readonly message: string; readonly suggestion?: string } | undefined {
  // pendulum.timezone() answers any spelling of UTC itself, before it looks for a zone file.
  if (tz.toUpperCase() === "UTC") return undefined;
  if (NAMES.has(tz)) {
    if (intlZone(tz) !== undefined) return undefined;
    return { message: `this Node.js (time zone data ${process.versions.tz ?? "unknown"}) does not know ${tz}, which tz database ${TZDATA_VERSION} has: upgrade Node.js` };
  }
  const respelled = BY_FOLDED_CASE.get(tz.toLowerCase());
  if (respelled !== undefined) return { message: `${EXPECTED}: pendulum matches names exactly`, suggestion: respelled };
  // A name Intl still resolves, but the tz database no longer has: suggest the zone it became.
  const resolved = intlZone(tz);
  if (resolved !== undefined) {
    const replacement = NAMES.has(resolved) ? resolved : BY_FOLDED_CASE.get(resolved.toLowerCase());
    return { message: `${EXPECTED}: ${tz} is not in tz database ${TZDATA_VERSION}`, ...(replacement ? { suggestion: replacement } : {}) };
  }
  const closest = suggestName(tz, TZDATA_NAMES);
  return { message: EXPECTED, ...(closest ? { suggestion: closest } : {}) };
}

export const timeZoneSchema = z
  .string()
  .check((ctx) => {
    const problem = timeZoneProblem(ctx.value);
    if (problem) ctx.issues.push({ code: "custom", message: problem.message, input: ctx.value, params: { suggestion: problem.suggestion } });
  })
  .describe("IANA time zone, spelled as in the tz database (e.g. UTC, America/New_York, Europe/Berlin).");
