/** Quotes a string for /bin/sh: safe words stay bare, anything else goes in single quotes. */
export function shellQuote(s: string): string {
  if (s !== '' && /^[A-Za-z0-9_@%+=:,./-]+$/.test(s)) return s;
  return singleQuote(s);
}

/** Always in single quotes, `'` itself as `'\''`: nothing inside is special to sh. */
export function singleQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}
