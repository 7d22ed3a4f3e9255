// protocol/canonical.ts against RFC 8785 (JSON Canonicalization Scheme), the form signatures
// (SPEC §5) and idempotency hashes are computed over.

import { describe, expect, it } from "vitest";
import { canonicalJson } from "../../../protocol/canonical.js";

describe("RFC 8785 canonical JSON", () => {
  it("reproduces the RFC's main example (§3.2.2): sorted keys, numbers, escapes, literals", () => {
    const input = JSON.parse(
      '{"numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],' +
        ' "string": "\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/",' +
        ' "literals": [null, true, false]}',
    );
    expect(canonicalJson(input)).toBe(
      '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],' +
        '"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}',
    );
  });

  it("sorts keys by UTF-16 code units, as in the RFC's sorting example (§3.2.3)", () => {
    const input = JSON.parse(
      '{"\\u20ac": "Euro Sign", "\\r": "Carriage Return", "\\ufb33": "Hebrew Letter Dalet With Dagesh",' +
        ' "1": "One", "\\ud83d\\ude00": "Emoji: Grinning Face", "\\u0080": "Control",' +
        ' "\\u00f6": "Latin Small Letter O With Diaeresis"}',
    );
    // 😀 (U+1F600) sorts before U+FB33 by UTF-16 code units (0xD83D < 0xFB33), unlike by code point.
    // (The text is compared, not Object.keys, which would list the integer-like key "1" first.)
    expect(canonicalJson(input)).toBe(
      '{"\\r":"Carriage Return","1":"One","\u0080":"Control","ö":"Latin Small Letter O With Diaeresis",' +
        '"€":"Euro Sign","😀":"Emoji: Grinning Face","דּ":"Hebrew Letter Dalet With Dagesh"}',
    );
  });

  it("sorts keys by code unit, not by locale or length", () => {
    expect(canonicalJson({ b: 1, a: 2, B: 3, aa: 4, "": 5, _: 6 })).toBe('{"":5,"B":3,"_":6,"a":2,"aa":4,"b":1}');
    expect(canonicalJson({ "10": 1, "9": 2, "1": 3 })).toBe('{"1":3,"10":1,"9":2}');
  });

  it.each([
    [0, "0"],
    [-0, "0"],
    [1, "1"],
    [-1, "-1"],
    [1.5, "1.5"],
    [4.5, "4.5"],
    [0.002, "0.002"],
    [1e20, "100000000000000000000"],
    [1e21, "1e+21"],
    [1e-6, "0.000001"],
    [1e-7, "1e-7"],
    [5e-324, "5e-324"],
    [1.7976931348623157e308, "1.7976931348623157e+308"],
    [-1.7976931348623157e308, "-1.7976931348623157e+308"],
    [9007199254740992, "9007199254740992"],
    [295147905179352830000, "295147905179352830000"],
    [333333333.3333333, "333333333.3333333"],
    [0.1 + 0.2, "0.30000000000000004"],
  ])("serializes the number %s as %s (ECMAScript form, RFC 8785 §3.2.2.3)", (value, text) => {
    expect(canonicalJson(value)).toBe(text);
    expect(canonicalJson([value])).toBe(`[${text}]`);
  });

  it("refuses numbers JSON cannot hold", () => {
    for (const value of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
      expect(() => canonicalJson(value)).toThrow();
      expect(() => canonicalJson({ a: value })).toThrow();
    }
  });

  it.each([
    ["\b\f\n\r\t", '"\\b\\f\\n\\r\\t"'],
    ['"\\', '"\\"\\\\"'],
    ["\u0000\u0001\u001f", '"\\u0000\\u0001\\u001f"'],
    ["/", '"/"'],
    ["\u007f\u0080é€😀", '"\u007f\u0080é€😀"'],
    ["\u2028\u2029", '"\u2028\u2029"'],
  ])("escapes only what JSON requires: %j -> %s", (value, text) => {
    expect(canonicalJson(value)).toBe(text);
  });

  it("writes no whitespace and keeps array order, in nested arrays and objects", () => {
    const input = { z: [[3, [2, { b: [1, { d: null, c: true }], a: "x" }]], []], a: {}, m: [{}] };
    expect(canonicalJson(input)).toBe('{"a":{},"m":[{}],"z":[[3,[2,{"a":"x","b":[1,{"c":true,"d":null}]}]],[]]}');
  });

  it("leaves out fields that are undefined (absent), but keeps null", () => {
    expect(canonicalJson({ a: undefined, b: null, c: 1 })).toBe('{"b":null,"c":1}');
  });

  it("gives the same text for the same value whatever the key order of the input", () => {
    const one = { id: "x", from: "Alice", to: ["Bob", "Carol"], v: 2, encrypted: false, payload: { text: "hi", n: 1 } };
    const two = { payload: { n: 1, text: "hi" }, encrypted: false, v: 2, to: ["Bob", "Carol"], from: "Alice", id: "x" };
    expect(canonicalJson(one)).toBe(canonicalJson(two));
    // Array order is meaningful and kept.
    expect(canonicalJson({ ...one, to: ["Carol", "Bob"] })).not.toBe(canonicalJson(one));
  });

  it("round-trips: parsing the canonical text and canonicalizing again changes nothing", () => {
    const input = JSON.parse('{"b":[1e30,-0.0,"\\u00e9\\ud83d\\ude00"],"a":{"y":null,"x":[true,false]}}');
    const once = canonicalJson(input);
    expect(canonicalJson(JSON.parse(once))).toBe(once);
  });
});
