/**
 * Column names from header cells. A header is written for people ("Amount (USD)", "Booked
 * on", "Größe", blank over a helper column, "Total" twice); a column name has to be written
 * in SQL, in `columns:` overrides and in dbt models without quoting. The rule, also in the
 * README:
 *
 * 1. The header as the sheet shows it, NFKC-normalized (full-width and compatibility
 *    characters become their plain forms) and lower-cased.
 * 2. Every run of characters that are not letters, digits or combining marks (of any
 *    script: `größe` and `金額` stay as they are) becomes one `_`; `_` at either end is dropped.
 * 3. A name that starts with a digit gets a leading `_` (`2026` -> `_2026`), because most
 *    warehouses refuse such identifiers unquoted.
 * 4. A name longer than 128 characters is cut there.
 * 5. A blank header (or one of punctuation or emoji only) is `column_<n>`, n the column's
 *    number in the sheet (`column_3` for column C).
 * 6. The first column with a name keeps it. Each later one gets the smallest suffix
 *    `_2`, `_3`, ... that no other column has (`amount`, `amount_2`).
 *
 * Names never start with `_` except for rule 3, so `_sheet`, the column `sheets: all` adds,
 * cannot clash with one.
 */

const MAX_LENGTH = 128;

/** Names for `headers` (the displayed header texts, `""` for a blank cell); `firstColumn` is the zero-based sheet column of the first. */
export function columnNames(headers: readonly string[], firstColumn: number): string[] {
  const natural = headers.map((header, i) => baseName(header) || `column_${firstColumn + i + 1}`);
  const taken = new Set<string>();
  const firsts = new Set<number>();
  natural.forEach((name, i) => {
    if (!taken.has(name)) {
      taken.add(name);
      firsts.add(i);
    }
  });
  return natural.map((name, i) => {
    if (firsts.has(i)) return name;
    let n = 2;
    while (taken.has(`${name}_${n}`)) n++;
    const unique = `${name}_${n}`;
    taken.add(unique);
    return unique;
  });
}

/** Rules 1 to 4 for one header; `""` when nothing usable is left. */
export function baseName(header: string): string {
  const folded = header.normalize("NFKC").toLowerCase();
  let name = folded.replace(/[^\p{L}\p{N}\p{M}]+/gu, "_").replace(/^_+|_+$/g, "");
  if (/^\p{N}/u.test(name)) name = `_${name}`;
  const chars = [...name];
  if (chars.length > MAX_LENGTH) name = chars.slice(0, MAX_LENGTH).join("").replace(/_+$/, "");
  return name;
}
