/** Finding things in a JSON response body by dotted path. */

export type ApiRecord = Record<string, unknown>;

/** `getPath(body, "meta.next_cursor")`; numeric segments index arrays. */
export function getPath(body: unknown, path: string): unknown {
  let current = body;
  for (const key of path.split(".")) {
    if (current === null || typeof current !== "object") return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

const isRecord = (value: unknown): value is ApiRecord => typeof value === "object" && value !== null && !Array.isArray(value);

/**
 * The records of one page. An empty body (e.g. 204) is an empty page; anything
 * else that is not an array of objects is a configuration problem, reported with
 * the fields that would have worked.
 */
export function recordsAt(body: unknown, recordPath: string | undefined, where: string): ApiRecord[] {
  if (body === null) return [];
  const found = recordPath === undefined ? body : getPath(body, recordPath);
  const at = recordPath === undefined ? "the response body" : `\`${recordPath}\` in the response body`;
  if (!Array.isArray(found)) {
    const kind = found === undefined ? "nothing" : found === null ? "null" : typeof found === "object" ? "an object" : `a ${typeof found}`;
    const candidates = arrayPaths(body);
    const hint = candidates.length
      ? `set \`record_path\` to one of: ${candidates.map((p) => `\`${p}\``).join(", ")}`
      : "set `record_path` to the dotted path of the record array";
    throw new Error(`expected an array of records at ${at} of ${where}, found ${kind}; ${hint}`);
  }
  const bad = found.findIndex((item) => !isRecord(item));
  if (bad !== -1) {
    throw new Error(`expected an array of objects at ${at} of ${where}, but item ${bad} is ${JSON.stringify(found[bad])?.slice(0, 80)}`);
  }
  return found as ApiRecord[];
}

/** Dotted paths (two levels deep) of the arrays in a body, to suggest a `record_path`. */
function arrayPaths(body: unknown, prefix = "", depth = 0): string[] {
  if (!isRecord(body) || depth > 1) return [];
  return Object.entries(body).flatMap(([key, value]) =>
    Array.isArray(value) ? [`${prefix}${key}`] : arrayPaths(value, `${prefix}${key}.`, depth + 1),
  );
}
