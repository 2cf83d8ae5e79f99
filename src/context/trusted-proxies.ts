import { BlockList, isIP } from 'node:net';

/**
 * Which peers may tell us the client's address in X-Forwarded-For: the configured
 * `trusted_proxies` CIDRs, nothing else. This predicate is Fastify's `trustProxy` for the API and
 * the built-in proxy alike, so `request.ip` (sessions, events, rate limits, the risk engine) is
 * decided in this one place: Fastify (proxy-addr) walks from the socket address leftwards through
 * X-Forwarded-For, right to left, and stops at the first address that is not a trusted proxy,
 * which is the client. With no trusted proxies the header is ignored and the socket address is used.
 */
export type ProxyTrust = (address: string, hop: number) => boolean;

const IPV4_MAPPED = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i;

/** Unwraps "::ffff:10.0.0.1" (an IPv4 peer on a dual-stack socket) to "10.0.0.1". */
export const plainAddress = (address: string): string => IPV4_MAPPED.exec(address)?.[1] ?? address;

/** Throws with the offending entry when a CIDR does not parse. */
export function trustedNetworks(cidrs: readonly string[]): BlockList {
  const list = new BlockList();
  for (const cidr of cidrs) {
    const [address = '', bits] = cidr.split('/');
    const family = isIP(address);
    if (family === 0) throw new Error(`trusted_proxies: "${cidr}" is not an IP address or CIDR`);
    const type = family === 4 ? 'ipv4' : 'ipv6';
    const max = family === 4 ? 32 : 128;
    const prefix = bits === undefined ? max : Number(bits);
    if (!Number.isInteger(prefix) || prefix < 0 || prefix > max) throw new Error(`trusted_proxies: "${cidr}" has a bad prefix length`);
    list.addSubnet(address, prefix, type);
  }
  return list;
}

/** Fastify's trustProxy option: false (ignore X-Forwarded-For) without trusted proxies, else the predicate. */
export function proxyTrust(cidrs: readonly string[]): ProxyTrust | false {
  if (cidrs.length === 0) return false;
  const networks = trustedNetworks(cidrs);
  return (address) => {
    const plain = plainAddress(address);
    const family = isIP(plain);
    return family !== 0 && networks.check(plain, family === 4 ? 'ipv4' : 'ipv6');
  };
}
