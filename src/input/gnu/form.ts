/**
 * GNU parallel's input separators. Kept apart, with no imports: main.ts asks isGnuForm on every run, before
 * anything else is loaded.
 */
export const SEPARATORS: readonly string[] = [':::', ':::+', '::::', '::::+'];

export function isSeparator(word: string | Buffer): boolean {
  return SEPARATORS.includes(typeof word === 'string' ? word : word.toString('latin1'));
}

/**
 * Whether the words after the options are GNU parallel's form `CMD [WORD…] ::: A B …` rather than a job file:
 * a `:::`/`::::` separator is among them, or `-a FILE` gave the input. Then every word is a command word or an
 * input value, and none is an option.
 */
export function isGnuForm(args: readonly string[], argFiles: readonly string[] | undefined): boolean {
  return (argFiles?.length ?? 0) > 0 || args.some(isSeparator);
}
