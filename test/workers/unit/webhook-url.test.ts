// protocol/webhook-url.ts (SPEC §4.4): webhook URLs are https only, never an IP literal outside
// public unicast space (in any numeric spelling, IPv4 inside IPv6 included), never localhost or
// another local-only name, never a name with empty labels, never with credentials — unless the
// deployment allows private targets, which also allows plain http.

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
  // IPv4 embedded in IPv6 (transition forms reach the embedded address, or a relay)
  ["[::ffff:0:127.0.0.1] IPv4-translated (RFC 6145)", "https://[::ffff:0:127.0.0.1]/"],
  ["[::ffff:0:8.8.8.8] IPv4-translated, public inside", "https://[::ffff:0:8.8.8.8]/"],
  ["[::8.8.8.8] IPv4-compatible (deprecated), public inside", "https://[::8.8.8.8]/"],
  ["[2002:7f00:1::1] 6to4 of 127.0.0.1", "https://[2002:7f00:1::1]/"],
  ["[2002:a00:1::1] 6to4 of 10.0.0.1", "https://[2002:a00:1::1]/"],
  ["[2002:808:808::1] 6to4 of a public address", "https://[2002:808:808::1]/"],
  ["[2001:0:4136:e378:8000:63bf:3fff:fdd2] Teredo", "https://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/"],
  ["[2001::1] Teredo prefix", "https://[2001::1]/"],
  ["[64:ff9b::8.8.8.8] NAT64, public inside", "https://[64:ff9b::8.8.8.8]/"],
  ["[64:ff9b:1::808:808] local-use NAT64 (RFC 8215)", "https://[64:ff9b:1::808:808]/"],
  // other IPv6 space that is not public unicast
  ["[fec0::1] deprecated site-local", "https://[fec0::1]/"],
  ["[feff::1] site-local upper end", "https://[feff::1]/"],
  ["[100::1] discard-only (RFC 6666)", "https://[100::1]/"],
  ["[100:0:0:1::1] 100::/8, beyond the discard /64", "https://[100:0:0:1::1]/"],
  ["[2001:2::1] benchmarking", "https://[2001:2::1]/"],
  ["[2001:20::1] ORCHIDv2", "https://[2001:20::1]/"],
  ["[3fff::1] documentation (RFC 9637)", "https://[3fff::1]/"],
  ["[5f00::1] segment routing", "https://[5f00::1]/"],
  // IPv4 special-purpose ranges
  ["192.88.99.1 6to4 relay anycast", "https://192.88.99.1/"],
  ["192.52.193.1 AMT", "https://192.52.193.1/"],
  ["192.175.48.1 AS112", "https://192.175.48.1/"],
  // Ranges the hand-written parser also refused but no test named (kept since ipaddr.js decides now).
  ["[ff02::1] multicast", "https://[ff02::1]/"],
  ["224.0.0.1 multicast", "https://224.0.0.1/"],
  ["255.255.255.255 broadcast", "https://255.255.255.255/"],
  ["240.0.0.1 reserved", "https://240.0.0.1/"],
  ["198.18.0.1 benchmarking", "https://198.18.0.1/"],
  ["192.0.2.1 documentation", "https://192.0.2.1/"],
  // names that are not public host names
  ["localhost with two trailing dots", "https://localhost../"],
  ["127.0.0.1 with two trailing dots", "https://127.0.0.1../"],
  ["a name with an empty label inside", "https://a..example.com/"],
  ["a name with a leading dot", "https://.example.com/"],
  ["localhost.localdomain", "https://localhost.localdomain/"],
  ["a name under localdomain", "https://host.localdomain/"],
  ["an mDNS name (.local)", "https://printer.local/"],
  ["a name under .internal", "https://db.internal/"],
  ["a name under home.arpa", "https://nas.home.arpa/"],
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
  // Boundaries of the refused ranges and forms, so the checks do not over-reach.
  ["a name in absolute form (one trailing dot)", "https://example.com./hook"],
  ["192.88.98.1, just below the 6to4 relay range", "https://192.88.98.1/"],
  ["a public IPv6 in 2001::/16 outside Teredo and the reserved /23", "https://[2001:4860:4860::8888]/"],
  ["a public IPv6 just above 2002::/16", "https://[2003::1]/"],
  ["a name that merely starts with local", "https://local.example.com/"],
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
    expect(webhookUrlProblem("https://[2002:7f00:1::1]/", false)).toMatch(/6to4/);
    expect(webhookUrlProblem("https://[fec0::1]/", false)).toMatch(/site-?local/i);
    expect(webhookUrlProblem("https://192.88.99.1/", false)).toMatch(/reserved/);
    expect(webhookUrlProblem("https://localhost../", false)).toMatch(/empty label/);
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
