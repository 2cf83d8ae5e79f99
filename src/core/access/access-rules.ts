import { BlockList, isIPv4, isIPv6 } from 'node:net';

/** What a protected request needs, from weakest to strongest. */
export type AccessPolicy = 'bypass' | 'one_factor' | 'two_factor' | 'deny';

/** An access rule as configured: every criterion given must match; an omitted one matches anything. */
export interface AccessRule {
  /** Exact host names or wildcards "*.example.com" (which match sub-domains, not example.com itself). */
  domains?: string[];
  /** Path prefixes ("/admin" matches "/admin" and "/admin/x", not "/administrator"), or regexes written "^...". */
  paths?: string[];
  methods?: string[];
  /** Client networks, CIDR or single addresses. */
  networks?: string[];
  /** "user:NAME" or "group:NAME"; a rule with subjects only applies once the user is known. */
  subjects?: string[];
  policy: AccessPolicy;
  /** A factor must have been proven this recently (step-up), in milliseconds. */
  maxAuthAgeMs?: number;
}

export interface AccessRequest {
  host: string;
  path: string;
  method: string;
  ip: string;
  /** Known once a session is presented. */
  subject?: { username: string; groups: string[] };
}

export interface AccessDecision {
  policy: AccessPolicy;
  maxAuthAgeMs?: number;
  /** Index of the rule that decided, null for the default policy. */
  rule: number | null;
  /** True when an unknown visitor met a rule that names subjects: sign in, then evaluate again. */
  identityRequired: boolean;
}

interface CompiledRule {
  rule: AccessRule;
  matchHost(host: string): boolean;
  matchPath(path: string): boolean;
  methods: Set<string> | null;
  networks: BlockList | null;
  users: Set<string>;
  groups: Set<string>;
}

export interface CompiledAccessRules {
  rules: CompiledRule[];
  defaultPolicy: AccessPolicy;
}

function hostMatcher(domains: string[] | undefined): (host: string) => boolean {
  if (!domains?.length) return () => true;
  const exact = new Set(domains.filter((d) => !d.startsWith('*.')).map((d) => d.toLowerCase()));
  const suffixes = domains.filter((d) => d.startsWith('*.')).map((d) => d.slice(1).toLowerCase());
  return (host) => exact.has(host) || suffixes.some((suffix) => host.endsWith(suffix) && host.length > suffix.length);
}

function pathMatcher(paths: string[] | undefined): (path: string) => boolean {
  if (!paths?.length) return () => true;
  const regexes = paths.filter((p) => p.startsWith('^')).map((p) => new RegExp(p));
  const prefixes = paths.filter((p) => !p.startsWith('^')).map((p) => (p.endsWith('/') && p !== '/' ? p.slice(0, -1) : p));
  return (path) =>
    regexes.some((re) => re.test(path)) || prefixes.some((prefix) => prefix === '/' || path === prefix || path.startsWith(`${prefix}/`));
}

function networkList(networks: string[] | undefined): BlockList | null {
  if (!networks?.length) return null;
  const list = new BlockList();
  for (const network of networks) {
    const [address = '', bits] = network.split('/');
    const type = isIPv6(address) ? 'ipv6' : 'ipv4';
    if (!isIPv4(address) && !isIPv6(address)) throw new Error(`"${network}" is not an IP network`);
    if (bits === undefined) list.addAddress(address, type);
    else list.addSubnet(address, Number(bits), type);
  }
  return list;
}

/** Checks and prepares rules once (at start), so evaluation per request does no parsing. Throws on a bad rule. */
export function compileAccessRules(rules: AccessRule[], defaultPolicy: AccessPolicy): CompiledAccessRules {
  return {
    defaultPolicy,
    rules: rules.map((rule, index) => {
      try {
        const subjects = rule.subjects ?? [];
        for (const s of subjects) if (!/^(user|group):.+$/.test(s)) throw new Error(`subject "${s}" must be user:NAME or group:NAME`);
        return {
          rule,
          matchHost: hostMatcher(rule.domains),
          matchPath: pathMatcher(rule.paths),
          methods: rule.methods?.length ? new Set(rule.methods.map((m) => m.toUpperCase())) : null,
          networks: networkList(rule.networks),
          users: new Set(subjects.filter((s) => s.startsWith('user:')).map((s) => s.slice(5).toLowerCase())),
          groups: new Set(subjects.filter((s) => s.startsWith('group:')).map((s) => s.slice(6))),
        };
      } catch (err) {
        throw new Error(`access_control.rules[${index}]: ${(err as Error).message}`);
      }
    }),
  };
}

function matchesNetwork(list: BlockList, ip: string): boolean {
  const bare = ip.startsWith('::ffff:') && isIPv4(ip.slice(7)) ? ip.slice(7) : ip;
  if (isIPv4(bare)) return list.check(bare, 'ipv4');
  if (isIPv6(bare)) return list.check(bare, 'ipv6');
  return false;
}

/** First matching rule wins; no match falls to the default policy. Pure and allocation-light: it runs on every gated request. */
export function evaluateAccess(compiled: CompiledAccessRules, request: AccessRequest): AccessDecision {
  const host = request.host.toLowerCase();
  const method = request.method.toUpperCase();
  for (let i = 0; i < compiled.rules.length; i++) {
    const c = compiled.rules[i]!;
    if (!c.matchHost(host) || !c.matchPath(request.path)) continue;
    if (c.methods && !c.methods.has(method)) continue;
    if (c.networks && !matchesNetwork(c.networks, request.ip)) continue;
    if (c.users.size > 0 || c.groups.size > 0) {
      if (!request.subject) return { policy: c.rule.policy, rule: i, identityRequired: true };
      const { username, groups } = request.subject;
      if (!c.users.has(username.toLowerCase()) && !groups.some((g) => c.groups.has(g))) continue;
    }
    return { policy: c.rule.policy, maxAuthAgeMs: c.rule.maxAuthAgeMs, rule: i, identityRequired: false };
  }
  return { policy: compiled.defaultPolicy, rule: null, identityRequired: false };
}
