// Webhook URL validation (SPEC §4.4), shared by the Worker (when a URL is set) and the Inbox (before
// every delivery, against the policy in force then). The WHATWG URL parser already turns numeric
// IPv4 spellings (`0x7f.1`, `2130706433`, `017700000001`, `127.1`) into dotted decimal and
// normalizes IPv6, so an IP literal reaches the checks in one canonical form; ipaddr.js then says
// which special-purpose range it is in (RFC 6890 and later registries), including the forms that
// carry an IPv4 address inside IPv6. Names that resolve to private addresses cannot be checked from
// a Worker; on Cloudflare, outbound fetches cannot reach private networks anyway.

import ipaddr from "ipaddr.js";

const MAX_URL_LENGTH = 2048;

const NOT_PUBLIC = "must not point at a private, loopback, link-local or otherwise non-public address";

/**
 * Special-use names that never denote a public host: localhost (RFC 6761) and its subdomains, and
 * the local-only suffixes `localdomain`, `local` (mDNS, RFC 6762), `internal` and `home.arpa`
 * (RFC 8375).
 */
const LOCAL_NAMES = ["localhost", "localdomain", "local", "internal", "home.arpa"];

/** Why a webhook URL is refused, or null when it is acceptable. */
export function webhookUrlProblem(raw: string, allowPrivate: boolean): string | null {
  if (raw.length > MAX_URL_LENGTH) return `must be at most ${MAX_URL_LENGTH} characters`;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return "is not a valid absolute URL";
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") return "must be an https URL";
  if (url.username !== "" || url.password !== "") return "must not contain credentials";
  if (allowPrivate) return null;
  if (url.protocol !== "https:") return "must use https";
  return hostProblem(url.hostname.toLowerCase());
}

function hostProblem(host: string): string | null {
  if (host.startsWith("[")) return ipv6Problem(host.slice(1, -1));
  if (ipaddr.IPv4.isValidFourPartDecimal(host)) return ipv4Problem(ipaddr.IPv4.parse(host));
  // A name: one trailing dot (the absolute form) is fine; an empty label anywhere else
  // (`localhost..`, `127.0.0.1..`, `a..b`) is not a host name, and resolvers differ on it.
  const name = host.endsWith(".") ? host.slice(0, -1) : host;
  if (name.split(".").some((label) => label === "")) return "must name a host without empty labels (no trailing or repeated dots)";
  if (LOCAL_NAMES.some((local) => name === local || name.endsWith(`.${local}`))) return "must not point at localhost or another local-only name";
  return null;
}

function ipv4Problem(address: ipaddr.IPv4): string | null {
  const range = address.range();
  return range === "unicast" ? null : `${NOT_PUBLIC} (${address.toString()} is ${range})`;
}

/** IANA's global unicast space: every public IPv6 address is in 2000::/3. */
const GLOBAL_UNICAST = ipaddr.IPv6.parseCIDR("2000::/3");

function ipv6Problem(text: string): string | null {
  let address: ipaddr.IPv6;
  try {
    address = ipaddr.IPv6.parse(text);
  } catch {
    return "is not a valid IPv6 address";
  }
  // ::ffff:a.b.c.d is that IPv4 address itself: judged as one.
  if (address.isIPv4MappedAddress()) return ipv4Problem(address.toIPv4Address());
  const range = address.range();
  if (range !== "unicast") return `${NOT_PUBLIC} (${range})`;
  // Outside 2000::/3 are the IPv4-compatible form (::a.b.c.d), 100::/8 and other space that
  // ipaddr.js has no special name for but that is not routed publicly. 6to4 (2002::/16), Teredo
  // (2001::/32) and NAT64 (64:ff9b::/96), which reach an embedded IPv4 address, are refused above
  // by their range, whatever address they embed.
  if (!address.match(GLOBAL_UNICAST)) return `${NOT_PUBLIC} (outside the global unicast space 2000::/3)`;
  return null;
}
