/**
 * Programs that take a password as a short option's value, or in a place of their own, which no option name says is
 * a secret: masked in the words of that command (to `;`, `&`, `|`, a redirection or a line's end). util/redact.ts
 * applies these after the named forms.
 */

/** A command's words: to a `;`, `&`, `|`, redirection or line end outside quotes (`'p;w'` is one word). */
const WORDS = `(?:[^;&|<>\\n'"\\\\]|\\\\.|"[^"]*"|'[^']*')*`;
/** A value as a shell word: quoted, escaped (`my\\ pw`), or to the next blank or quote. */
const VALUE = `(?:"[^"]*"|'[^']*'|\\\\.|[^\\s'"\\\\])+`;

interface Rule {
  /** The command's name (as a word of its own), and what may follow it before its options (`docker login`). */
  command: string;
  /** The option letter that takes the password. */
  option: string;
  /** Also as the next word (`sshpass -p PW`); else only glued (`mysql -pPW`: `-p` alone asks, `-p db` is a database). */
  separate: boolean;
}

const RULES: Rule[] = [
  { command: 'mysql\\w*|mariadb[\\w-]*', option: 'p', separate: false },
  { command: '7z|7za|7zr', option: 'p', separate: false },
  { command: 'redis-cli|valkey-cli|keydb-cli', option: 'a', separate: true },
  {
    command: 'ldap(?:search|add|modify|delete|whoami|passwd|compare|modrdn|exop)',
    option: 'w',
    separate: true,
  },
  {
    command: 'mongo|mongosh|mongo(?:dump|restore|export|import|stat|top|files)',
    option: 'p',
    separate: true,
  },
  { command: 'sqlcmd|bcp', option: 'P', separate: true },
  { command: 'zip|unzip|zipcloak', option: 'P', separate: true },
  { command: '(?:docker|podman|nerdctl|buildah)\\s+login', option: 'p', separate: true },
];

const compiled = RULES.map((r) => ({
  command: new RegExp(`(?<![\\w.-])(?:${r.command})(?![\\w.-])${WORDS}`, 'g'),
  option: new RegExp(`(^|[\\s'"])-${r.option}(${r.separate ? `\\s+(?!-)${VALUE}|` : ''}${VALUE})`, 'g'),
}));

/**
 * `htpasswd -b [-c -B …] [FILE] USER PASSWORD` (`-b` in any option word: `-bc`, `-B -b`): the password is the
 * command's last word, before any redirection (a redirection's descriptor, `2>/dev/null`, is no word of it).
 */
const HTPASSWD = new RegExp(`(?<![\\w.-])htpasswd(?![\\w.-])${WORDS}`, 'g');
const BATCH_OPTION = /\s-[a-zA-Z0-9]*b/;
const LAST_WORD = new RegExp(`(\\s)${VALUE}(\\s*)$`);
const FD_BEFORE_REDIRECTION = /\s\d+$/;
/**
 * `sshpass -p PW COMMAND…`: sshpass's own options come first; the command it runs (`ssh -p 2222`) is not its.
 * Its options that take a value: -p (the password), -f, -d, -P.
 */
const SSHPASS = /(?<![\w.-])sshpass(?![\w.-])/g;
const SHELL_WORD = /\s+((?:[^\s'";&|<>\\]|\\.|"[^"]*"|'[^']*')+)/y;
/** `openssl … -passin pass:PW` (and -passout, -pass, -kfile aside): the `pass:` form's value. */
const OPENSSL_PASS = /(-pass(?:in|out)?\s+['"]?pass:)(?:"[^"]*"|'[^']*'|[^\s'"])+/g;

/** Words that come before any of these: text without one is returned at once. */
export const PROGRAM_HINT =
  /mysql|mariadb|7z|sshpass|-cli\b|ldap|mongo|sqlcmd|\bbcp\b|zip|login|htpasswd|-pass/i;

export function maskProgramPasswords(text: string, mask: string): string {
  if (!PROGRAM_HINT.test(text)) return text;
  for (const r of compiled)
    text = text.replace(r.command, (cmd) =>
      cmd.replace(r.option, (m: string, lead: string, value: string) => {
        const space = /^\s+/.exec(value)?.[0] ?? '';
        return `${m.slice(0, lead.length + 2)}${space}${mask}`;
      }),
    );
  text = text.replace(HTPASSWD, (cmd: string, at: number, whole: string) => {
    if (!BATCH_OPTION.test(cmd)) return cmd;
    // `… PW 2>/dev/null`: the `2` belongs to the redirection that follows.
    const words = /[<>]/.test(whole[at + cmd.length] ?? '') ? cmd.replace(FD_BEFORE_REDIRECTION, '') : cmd;
    const masked = words.replace(LAST_WORD, (_m, lead: string, tail: string) => `${lead}${mask}${tail}`);
    return masked + cmd.slice(words.length);
  });
  if (text.includes('sshpass')) text = maskSshpass(text, mask);
  return text.replace(OPENSSL_PASS, (_m, lead: string) => `${lead}${mask}`);
}

/** Each `sshpass`'s own options, to the first word that is none (the command it runs). */
function maskSshpass(text: string, mask: string): string {
  let out = '';
  let last = 0;
  for (const m of text.matchAll(SSHPASS)) {
    let i = m.index + m[0].length;
    if (i < last) continue;
    let value: 'mask' | 'skip' | undefined;
    for (;;) {
      SHELL_WORD.lastIndex = i;
      const w = SHELL_WORD.exec(text);
      if (!w) break;
      const word = w[1]!;
      const start = SHELL_WORD.lastIndex - word.length;
      i = SHELL_WORD.lastIndex;
      if (value !== undefined) {
        if (value === 'mask') {
          out += text.slice(last, start) + mask;
          last = i;
        }
        value = undefined;
        continue;
      }
      if (!word.startsWith('-') || word.startsWith('--')) break;
      // Flags may be joined (`-vp PW`, `-vpPW`): the first of p, f, d, P takes the rest or the next word.
      const k = word.search(/[pfdP]/);
      if (k === -1) continue;
      const rest = word.slice(k + 1);
      if (word[k] !== 'p') value = rest ? undefined : 'skip';
      else if (!rest) value = 'mask';
      else {
        out += text.slice(last, start + k + 1) + mask;
        last = i;
      }
    }
  }
  return out + text.slice(last);
}
