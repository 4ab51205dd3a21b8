import { describe, expect, it } from "vitest";
import { queryParameters } from "./parameters.js";

describe("queryParameters", () => {
  it("finds $name parameters once each, spelled as first written", () => {
    expect(queryParameters("select * from t where d = $ds and at >= $Window_Start and at < $window_end and $DS is not null and $window_start < $1")).toEqual([
      "ds",
      "Window_Start",
      "window_end",
      "1",
    ]);
  });

  it("skips strings, quoted identifiers, comments, dollar quotes and identifiers that contain a $", () => {
    const sql = `select '$a', 'it''s $b', E'\\' $c', "$d", "x""$e", a$f, $$ $g $$, $tag$ $h $tag$ -- $i
      /* $j */ from t where x = $k`;
    expect(queryParameters(sql)).toEqual(["k"]);
  });

  it("ends cleanly on unterminated strings and comments", () => {
    expect(queryParameters("select $a, 'open $b")).toEqual(["a"]);
    expect(queryParameters("select $a /* open $b")).toEqual(["a"]);
    expect(queryParameters("select $a -- $b")).toEqual(["a"]);
    expect(queryParameters("select $")).toEqual([]);
  });
});
