import { describe, expect, it } from "vitest";
import { knownCharset } from "./charset.js";

describe("knownCharset", () => {
  it("reads the IANA names and their aliases in any case, UTF-8 for none", () => {
    const labels: [string | undefined, string | undefined][] = [
      [undefined, "utf-8"],
      ["utf-8", "utf-8"],
      ["UTF8", "utf-8"],
      ["us-ascii", "us-ascii"],
      ["ASCII", "us-ascii"],
      ["iso-8859-1", "iso-8859-1"],
      ["ISO_8859-1", "iso-8859-1"],
      ["iso8859-1", "iso-8859-1"],
      ["Latin1", "iso-8859-1"],
      ["l1", "iso-8859-1"],
    ];
    for (const [label, charset] of labels)
      expect([label, knownCharset(label)]).toEqual([label, charset]);
  });

  it("knows no other charset, nor a label with more around it", () => {
    for (const label of [
      "",
      "utf-16",
      "utf--8",
      "us_ascii",
      "iso-8859-15",
      "iso8859_1",
      "latin-1",
      " utf-8",
      "utf-8\n",
      "windows-1252",
    ]) {
      expect([label, knownCharset(label)]).toEqual([label, undefined]);
    }
  });
});
