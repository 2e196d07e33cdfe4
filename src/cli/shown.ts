import { redactText } from '../util/redact.js';
import { escapeControls } from '../util/text.js';

/**
 * A message for stderr, which may quote words of the command line or of a file: secrets masked (util/redact),
 * characters a terminal would act on written as escapes (util/text escapeControls).
 */
export function shown(text: string): string {
  return escapeControls(redactText(text), true);
}

/** An error's message for stderr: as shown() makes it, unless it was made safe to show line by line already. */
export function shownError(e: Error): string {
  return (e as { shownSafe?: boolean }).shownSafe === true ? e.message : shown(e.message);
}
