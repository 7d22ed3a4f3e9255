// protocol/webhook-url.ts (SPEC §4.4): webhook URLs are https only, never an IP literal in a
// private, loopback or link-local range (in any numeric spelling), never localhost, never with
// credentials — unless the deployment allows private targets, which also allows plain http.

import { describe, expect, it } from "vitest";
import { webhookUrlProblem } from "../../../protocol/webhook-url.js";

const refusedInProduction: [string, string][] = [
  // scheme
  ["plain http", "http://example.com/hook"],
  ["ftp", "ftp://example.com/hook"],
  ["javascript:", "javascript:alert(1)"],
  ["data:", "data:text/plain,hi"],
  ["not a URL", "example.com/hook"],
  // credentials
  ["user and password", "https://u:p@example.com/hook"],
  ["user only", "https://u@example.com/hook"],
  // private IPv4
  ["10.0.0.0/8", "https://10.0.0.1/hook"],
  ["10.255.255.255", "https://10.255.255.255/"],
  ["172.16.0.0/12 start", "https://172.16.0.1/"],
  ["172.16.0.0/12 end", "https://172.31.255.254/"],
  ["192.168.0.0/16", "https://192.168.1.10/"],
  ["loopback 127.0.0.1", "https://127.0.0.1/"],
  ["loopback 127.8.9.10", "https://127.8.9.10:8443/x"],
  ["link-local / cloud metadata", "https://169.254.169.254/latest/meta-data"],
  ["0.0.0.0", "https://0.0.0.0/"],
  ["CGNAT 100.64.0.0/10", "https://100.64.0.1/"],
  // numeric spellings of 127.0.0.1
  ["hex shorthand https", "https://0x7f.1/"],
  ["hex shorthand http", "http://0x7f.1/"],
  ["one decimal number", "https://2130706433/"],
  ["one decimal number, http", "http://2130706433/"],
  ["one octal number", "https://017700000001/"],
  ["two-part shorthand", "https://127.1/"],
  ["hex number", "https://0x7f000001/"],
  ["octal dotted", "https://0177.0.0.1/"],
  ["trailing dot", "https://127.0.0.1./"],
  ["hex 10.x", "https://0x0a.0.0.1/"],
  // localhost
  ["localhost", "https://localhost/hook"],
  ["localhost with port", "https://localhost:8443/hook"],
  ["LOCALHOST upper case", "https://LOCALHOST/hook"],
  ["localhost with trailing dot", "https://localhost./hook"],
  ["sub.localhost", "https://sub.localhost/hook"],
  ["deep.sub.localhost", "https://a.b.localhost/hook"],
  // IPv6
  ["[::1]", "https://[::1]/"],
  ["[::1] long form", "https://[0:0:0:0:0:0:0:1]/"],
  ["[::]", "https://[::]/"],
  ["[::ffff:127.0.0.1]", "https://[::ffff:127.0.0.1]/"],
  ["[::ffff:7f00:1]", "https://[::ffff:7f00:1]/"],
  ["[::ffff:10.0.0.1]", "https://[::ffff:10.0.0.1]/"],
  ["[::ffff:a9fe:a9fe] (169.254.169.254)", "https://[::ffff:a9fe:a9fe]/"],
  ["[0:0:0:0:0:ffff:7f00:1] long form", "https://[0:0:0:0:0:ffff:7f00:1]/"],
  ["[::127.0.0.1] IPv4-compatible", "https://[::127.0.0.1]/"],
  ["[64:ff9b::10.0.0.1] NAT64", "https://[64:ff9b::10.0.0.1]/"],
  ["[fc00::1] unique local", "https://[fc00::1]/"],
  ["[fd12::1] unique local", "https://[fd12::1]/"],
  ["[fd12:3456:789a::1]", "https://[fd12:3456:789a::1]:8443/hook"],
  ["[fe80::1] link-local", "https://[fe80::1]/"],
  ["[febf::1] link-local upper end", "https://[febf::1]/"],
];

const acceptedInProduction: [string, string][] = [
  ["a public name", "https://example.com/hook"],
  ["a public name with port, path and query", "https://hooks.example.com:8443/a/b?c=d#e"],
  ["a public IPv4", "https://93.184.216.34/hook"],
  ["172.32.x, just outside 172.16/12", "https://172.32.0.1/"],
  ["172.15.x, just below 172.16/12", "https://172.15.255.255/"],
  ["a public IPv6", "https://[2606:4700::1111]/"],
  ["a public IPv4 inside IPv6", "https://[::ffff:1.1.1.1]/"],
  ["a name that merely contains localhost", "https://localhost.example.com/hook"],
  ["a name ending in 'localhost' without a dot", "https://notlocalhost/hook"],
];

describe("webhook URLs where private targets are not allowed (production)", () => {
  it.each(refusedInProduction)("refuses %s: %s", (_what, url) => {
    const problem = webhookUrlProblem(url, false);
    expect(problem).toEqual(expect.any(String));
    expect(problem!.length).toBeGreaterThan(0);
  });

  it.each(acceptedInProduction)("accepts %s: %s", (_what, url) => {
    expect(webhookUrlProblem(url, false)).toBeNull();
  });

  it("explains the reason in words", () => {
    expect(webhookUrlProblem("http://example.com/", false)).toMatch(/https/);
    expect(webhookUrlProblem("https://u:p@example.com/", false)).toMatch(/credential/);
    expect(webhookUrlProblem("https://localhost/", false)).toMatch(/localhost/);
    expect(webhookUrlProblem("https://10.0.0.1/", false)).toMatch(/private/);
  });

  it("refuses a URL longer than 2048 characters", () => {
    expect(webhookUrlProblem(`https://example.com/${"a".repeat(2048)}`, false)).toEqual(expect.any(String));
  });
});

describe("webhook URLs where private targets are allowed (ALLOW_PRIVATE_WEBHOOKS=true)", () => {
  it.each([
    ["a loopback receiver over http", "http://127.0.0.1:9999/x"],
    ["localhost over http", "http://localhost:8080/hook"],
    ["a private address over https", "https://10.0.0.1/hook"],
    ["[::1]", "http://[::1]:9999/"],
    ["a public https URL", "https://example.com/hook"],
  ])("accepts %s: %s", (_what, url) => {
    expect(webhookUrlProblem(url, true)).toBeNull();
  });

  it.each([
    ["credentials", "https://u:p@example.com/hook"],
    ["credentials on a loopback receiver", "http://u:p@127.0.0.1:9999/x"],
    ["ftp", "ftp://127.0.0.1/x"],
    ["javascript:", "javascript:alert(1)"],
    ["not a URL", "not a url"],
  ])("still refuses %s: %s", (_what, url) => {
    expect(webhookUrlProblem(url, true)).toEqual(expect.any(String));
  });
});
