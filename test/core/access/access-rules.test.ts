import { describe, expect, it } from 'vitest';
import { compileAccessRules, evaluateAccess, type AccessRequest, type AccessRule } from '../../../src/core/access/access-rules.js';

const rules: AccessRule[] = [
  { domains: ['public.example.com'], policy: 'bypass' },
  { domains: ['app.example.com'], paths: ['/health'], methods: ['GET', 'HEAD'], policy: 'bypass' },
  { domains: ['app.example.com'], paths: ['/admin'], subjects: ['group:admins'], policy: 'two_factor', maxAuthAgeMs: 600_000 },
  { domains: ['app.example.com'], paths: ['/admin'], policy: 'deny' },
  { domains: ['*.internal.example.com'], networks: ['10.0.0.0/8', '192.168.1.7'], policy: 'one_factor' },
  { domains: ['*.internal.example.com'], policy: 'deny' },
  { paths: ['^/api/v[0-9]+/public/'], policy: 'bypass' },
  { subjects: ['user:alice'], domains: ['alice.example.com'], policy: 'one_factor' },
];
const compiled = compileAccessRules(rules, 'two_factor');
const admin = { username: 'root', groups: ['admins'] };
const bob = { username: 'bob', groups: [] };

const req = (over: Partial<AccessRequest>): AccessRequest => ({
  host: 'app.example.com',
  path: '/',
  method: 'GET',
  ip: '203.0.113.9',
  ...over,
});

describe('access rules: first match wins, default otherwise', () => {
  const table: Array<[string, Partial<AccessRequest>, string, number | null, boolean?]> = [
    ['exact domain bypass', { host: 'public.example.com', path: '/anything' }, 'bypass', 0],
    ['host match is case-insensitive', { host: 'PUBLIC.example.com' }, 'bypass', 0],
    ['path prefix and method', { path: '/health' }, 'bypass', 1],
    ['path prefix covers sub-paths', { path: '/health/deep' }, 'bypass', 1],
    ['prefix does not match a longer word', { path: '/healthz' }, 'two_factor', null],
    ['method outside the rule falls through', { path: '/health', method: 'POST' }, 'two_factor', null],
    ['subject rule matches the group', { path: '/admin/users', subject: admin }, 'two_factor', 2],
    ['subject rule skipped for others, next rule denies', { path: '/admin', subject: bob }, 'deny', 3],
    ['anonymous at a subject rule must identify first', { path: '/admin' }, 'two_factor', 2, true],
    ['wildcard domain + CIDR', { host: 'db.internal.example.com', ip: '10.1.2.3' }, 'one_factor', 4],
    ['wildcard domain + single address', { host: 'db.internal.example.com', ip: '192.168.1.7' }, 'one_factor', 4],
    ['IPv4-mapped IPv6 address matches the IPv4 network', { host: 'db.internal.example.com', ip: '::ffff:10.9.9.9' }, 'one_factor', 4],
    ['wildcard domain outside the network: deny', { host: 'db.internal.example.com', ip: '192.168.1.8' }, 'deny', 5],
    ['wildcard does not match the bare domain', { host: 'internal.example.com', ip: '10.1.2.3' }, 'two_factor', null],
    ['regex path', { host: 'x.example.com', path: '/api/v2/public/items' }, 'bypass', 6],
    ['regex path anchored', { host: 'x.example.com', path: '/x/api/v2/public/items' }, 'two_factor', null],
    ['user subject', { host: 'alice.example.com', subject: { username: 'Alice', groups: [] } }, 'one_factor', 7],
    ['other user at a user rule: default', { host: 'alice.example.com', subject: bob }, 'two_factor', null],
    ['nothing matches: default policy', { host: 'other.example.org' }, 'two_factor', null],
  ];
  it.each(table)('%s', (_name, over, policy, rule, identityRequired = false) => {
    const decision = evaluateAccess(compiled, req(over));
    expect(decision.policy).toBe(policy);
    expect(decision.rule).toBe(rule);
    expect(decision.identityRequired).toBe(identityRequired);
  });

  it('carries max_auth_age of the matching rule', () => {
    expect(evaluateAccess(compiled, req({ path: '/admin', subject: admin })).maxAuthAgeMs).toBe(600_000);
  });

  it('refuses a malformed rule with its index', () => {
    expect(() => compileAccessRules([{ networks: ['not-an-ip/8'], policy: 'deny' }], 'deny')).toThrow(/rules\[0\]/);
    expect(() => compileAccessRules([{ subjects: ['alice'], policy: 'deny' }], 'deny')).toThrow(/user:NAME/);
  });
});
