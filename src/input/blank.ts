/** GNU parallel's -r test (`/^\s*$/`): true for a value of only spaces, tabs, CR, LF, FF or VT, or none. */
export function isBlank(b: Buffer): boolean {
  for (const c of b) if (c !== 0x20 && (c < 0x09 || c > 0x0d)) return false;
  return true;
}
