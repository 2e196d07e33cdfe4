/** Whether a name (a variable, an option, a JSON key) says its value is a secret: the redactor's test (redact.ts). */

/**
 * Words that make a name a secret's wherever they are in it (`MYSQL_PWD`, `dbPassword`, `GITHUB_TOKEN`,
 * `GPG_PASSPHRASE`, `GOOGLE_APPLICATION_CREDENTIALS`, `ssh_private_key`, `api_key`, `AWS_ACCESS_KEY_ID`), looked
 * for in the name lower-cased with its separators taken out.
 */
const SECRET_WORDS = /password|passwd|passphrase|pwd|secret|token|credential|privatekey|apikey|accesskey/;
/**
 * Words that make a name a secret's when they end it (a number after them aside): `DB_PASS`, `PASS`, `DB_PW`,
 * `npm_config__auth`, `AWS_CREDS`, openssl's `-passin`. Not `bypass`, `author`, `pass_through`, `auth_type`.
 */
const SECRET_LAST = /^(?:pass|pw|auth|oauth|creds?|passin|passout)\d*$/;
/**
 * `…_KEY` (`STRIPE_KEY`, `apiKey`, `SSH_KEY`) is a secret's, but not a bare `key` (`sort --key=2`) and not a key
 * that names a place in data (`sort_key`, `primary_key`, `cacheKey`).
 */
const DATA_KEY = new Set(
  'sort primary foreign partition shard hash range cache group index join routing route row column col field lookup dedup idempotency unique composite compound natural surrogate map dict object hot shortcut'.split(
    ' ',
  ),
);

/** Whether a name (a variable, an option without its dashes, a JSON key) says its value is a secret. */
export function isSecretName(name: string): boolean {
  const words = name
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean);
  if (SECRET_WORDS.test(words.join(''))) return true;
  while (words.length > 1 && /^\d+$/.test(words[words.length - 1]!)) words.pop();
  const last = words[words.length - 1];
  if (last === undefined) return false;
  if (SECRET_LAST.test(last)) return true;
  return /^keys?$/.test(last) && words.length > 1 && !DATA_KEY.has(words[words.length - 2]!);
}
