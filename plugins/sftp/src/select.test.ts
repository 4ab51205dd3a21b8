/** Landed names: safe, deterministic and unique. */
import { expect, test } from "vitest";
import { landedNames } from "./select.js";

test("safe names stay; folders join with __; replaced or colliding names get a hash of the remote path", () => {
  const names = landedNames(["orders.csv.gz", "a/x.csv", "a__x.csv", "über daten.csv", ".hidden.csv"], true);
  expect(names[0]).toBe("orders.csv");
  expect(names[1]).toMatch(/^a__x-[0-9a-f]{8}\.csv$/);
  expect(names[2]).toMatch(/^a__x-[0-9a-f]{8}\.csv$/);
  expect(names[1]).not.toBe(names[2]);
  expect(names[3]).toMatch(/^_ber_daten-[0-9a-f]{8}\.csv$/);
  expect(names[4]).toMatch(/^hidden-[0-9a-f]{8}\.csv$/);
  expect(landedNames(["orders.csv.gz"], false)).toEqual(["orders.csv.gz"]);
  expect(landedNames(["a/x.csv", "a__x.csv"], true)).toEqual(names.slice(1, 3));
});
