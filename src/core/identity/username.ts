/**
 * Usernames are compared in one canonical form (NFKC, lower case) so "Alice" and "alice" and
 * look-alike compositions are one account. Allowed: letters, digits and . _ @ -, 1 to 64 characters.
 */
export function normalizeUsername(input: string): string | null {
  const name = input.normalize('NFKC').trim().toLowerCase();
  if (name.length < 1 || name.length > 64) return null;
  if (!/^[\p{L}\p{N}._@-]+$/u.test(name)) return null;
  return name;
}
