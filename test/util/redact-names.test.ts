/**
 * Secret-NAMED values outside a URL: an assignment (`DB_PASS=x`, `password = x`, `export …`, `env … cmd`), an
 * option (`--pass x`, `--passphrase=x`), a JSON member (`"db_pass": "x"`). Names are generated over prefixes,
 * suffixes, case and separators; a list of near-miss names (`bypass`, `author`, `monkey`, `sort_key`…) must stay.
 */
import { describe, expect, it } from 'vitest';
import { redactId, redactText } from '../../src/util/redact.js';

const SECRET = 'Zq7f3a9c1b';

/** The part of a name that makes it secret, as written in UPPER_SNAKE. */
const CORES = [
  'PASS',
  'PASSWORD',
  'PASSWD',
  'PWD',
  'PW',
  'PASSPHRASE',
  'SECRET',
  'TOKEN',
  'AUTH',
  'CREDENTIAL',
  'CREDENTIALS',
  'CREDS',
  'PRIVATE_KEY',
  'API_KEY',
  'ACCESS_KEY',
  'SECRET_ACCESS_KEY',
  'KEY',
];
/** What comes before it (`KEY` needs one: a bare `key` is `sort --key=2`). */
const PREFIXES = ['', 'DB_', 'SMTP_', 'REDIS_', 'AWS_', 'STRIPE_', 'MY_APP_', 'npm_config__', 'X1_'];
/** What may come after it and keep the name secret. */
const SUFFIXES = ['', '_1', '2'];

/** `DB_PASS` spelled as written in a shell, a config, a JS object, an option. */
function spellings(words: string[]): string[] {
  const lower = words.map((w) => w.toLowerCase());
  const camel = lower.map((w, i) => (i === 0 ? w : w[0]!.toUpperCase() + w.slice(1))).join('');
  return [words.join('_'), lower.join('_'), lower.join('-'), lower.join('.'), camel, words.join('-')];
}

function secretNames(): string[] {
  const names = new Set<string>();
  for (const core of CORES)
    for (const prefix of PREFIXES)
      for (const suffix of SUFFIXES) {
        if (core === 'KEY' && prefix === '') continue;
        if (core === 'KEY' && suffix !== '') continue;
        const words = `${prefix}${core}${suffix}`.split('_').filter(Boolean);
        for (const s of spellings(words)) names.add(s);
      }
  for (const n of [
    '_auth',
    'npm_config__auth',
    '_authToken',
    'GPG_PASSPHRASE',
    'passwd_file',
    'keystore_pass',
  ])
    names.add(n);
  return [...names];
}

/** Names that hold a secret word's letters but are ordinary words: their values stay. */
const NEAR_MISSES = [
  'bypass',
  'BYPASS',
  'compass',
  'passive',
  'passenger',
  'passage',
  'passport',
  'pass_through',
  'pass_file',
  'passes',
  'author',
  'authors',
  'authority',
  'auth_type',
  'auth_method',
  'monkey',
  'hockey',
  'keyboard',
  'keys_dir',
  'key',
  'KEY',
  'key_file',
  'key_id',
  'sort_key',
  'sortKey',
  'primary_key',
  'partition_key',
  'cache_key',
  'hotkey',
  'turnkey',
  'spw',
  'pwm',
  'classpath',
  'PATH',
  'HOME',
  'user',
];

describe('secret-named assignments, options and JSON members', () => {
  const names = secretNames();
  it(`generated: the value of each of ${names.length} secret names is masked in every form`, () => {
    expect(names.length).toBeGreaterThan(300);
    for (const name of names) {
      const opt = name.replace(/[_.]/g, '-').replace(/^-+/, '');
      const forms = [
        `${name}=${SECRET}`,
        `${name}=${SECRET} cmd`,
        `export ${name}=${SECRET}`,
        `env ${name}=${SECRET} ./run.sh`,
        `${name} = ${SECRET}`,
        `${name}='${SECRET} x'`,
        `${name}="${SECRET}"; echo done`,
        `sh -c '${name}=${SECRET} true; exit 1'`,
        `{"${name}": "${SECRET}"}`,
        `{"${name}":${SECRET}1}`,
        `--${opt}=${SECRET}`,
        `tool --${opt} ${SECRET} x`,
        `tool --${opt} '${SECRET}' x`,
        // Words joined by any separator, as in the `=` form (fresh-eyes probe: `--db.password S` was shown).
        ...['.', ':'].map((sep) => `tool --${opt.replace(/-/g, sep)} ${SECRET} x`),
        `FOO=bar ${name}=${SECRET}`,
        `X=${name}=${SECRET}`,
        // A header named after it (curl -H, wget --header), as `X-Auth` or `X-Api-Key` is.
        `curl -H '${opt}: ${SECRET}' https://h/`,
        `curl -H "X-${opt}:${SECRET}" https://h/`,
        `wget --header='${opt}: Basic ${SECRET} x' https://h/`,
        // A value quoted on its own after the colon (fresh-eyes probe: shown as written).
        `false ${opt}: '${SECRET} x'`,
        `false ${opt}: "${SECRET} x" y`,
      ];
      for (const form of forms) {
        expect(redactText(form), form).not.toContain(SECRET);
        expect(redactId(form), form).not.toContain(SECRET);
      }
    }
  });

  it('the forms of the report are masked as shown', () => {
    const cases: Array<[string, string]> = [
      ['DB_PASS=x', 'DB_PASS=***'],
      ['SMTP_PASS=x', 'SMTP_PASS=***'],
      ['PASS=x', 'PASS=***'],
      ['REDIS_PASS=', 'REDIS_PASS='],
      ['REDIS_PASS= cmd', 'REDIS_PASS= cmd'],
      ['npm_config__auth=x', 'npm_config__auth=***'],
      ['password = x', 'password = ***'],
      ['password =x y', 'password =*** y'],
      [
        'AWS_SECRET_ACCESS_KEY=x STRIPE_KEY=y API_KEY=z',
        'AWS_SECRET_ACCESS_KEY=*** STRIPE_KEY=*** API_KEY=***',
      ],
      ['export DB_PASS=x', 'export DB_PASS=***'],
      ['env DB_PASS=x cmd', 'env DB_PASS=*** cmd'],
      ['{"db_pass": "x", "n": 1}', '{"db_pass": "***", "n": 1}'],
      ['gpg --passphrase=x --batch', 'gpg --passphrase=*** --batch'],
      ['gpg --passphrase x --batch', 'gpg --passphrase *** --batch'],
      ['tool --pass x', 'tool --pass ***'],
      ['tool --token x', 'tool --token ***'],
      ['openssl enc -pass pass:x -in f', 'openssl enc -pass *** -in f'],
      ['DB_PASS=x true; mysql -px -e 1; exit 1', 'DB_PASS=*** true; mysql -p*** -e 1; exit 1'],
      ['mysqldump -uroot -pS3 db > d.sql', 'mysqldump -uroot -p*** db > d.sql'],
      ["/usr/bin/mysql -h h '-pS3' db", "/usr/bin/mysql -h h '-p***' db"],
      ['DB_PASS="a b"c x', 'DB_PASS=*** x'],
      ['x=1&token=t;b', 'x=1&token=***;b'],
      // Programs whose password option no name says is one (acceptance probe: shown in --dry-run).
      ['sshpass -p S3 ssh host', 'sshpass -p *** ssh host'],
      ['sshpass -pS3 ssh host', 'sshpass -p*** ssh host'],
      ['redis-cli -h h -p 6379 -a "s e c" ping', 'redis-cli -h h -p 6379 -a *** ping'],
      ['valkey-cli -a S3', 'valkey-cli -a ***'],
      ['ldapsearch -x -D cn=admin -w S3 -b dc=x', 'ldapsearch -x -D cn=admin -w *** -b dc=x'],
      ['mongosh -u admin -p S3 --quiet', 'mongosh -u admin -p *** --quiet'],
      ['sqlcmd -S srv -U sa -P S3 -Q q', 'sqlcmd -S srv -U sa -P *** -Q q'],
      ['zip -P S3 out.zip f', 'zip -P *** out.zip f'],
      ['unzip -P S3 a.zip', 'unzip -P *** a.zip'],
      ['7z a -pS3 a.7z f', '7z a -p*** a.7z f'],
      ['docker login -u me -p S3 registry', 'docker login -u me -p *** registry'],
      ['htpasswd -bc .htpasswd user S3', 'htpasswd -bc .htpasswd user ***'],
      ['htpasswd -bn user S3 > f; echo done', 'htpasswd -bn user *** > f; echo done'],
      ['openssl rsa -passin pass:S3 -in k', 'openssl rsa -passin *** -in k'],
      // A review: the fd of a redirection is no word (it was masked, and the password shown).
      ['htpasswd -b .htpasswd alice S3 2>/dev/null', 'htpasswd -b .htpasswd alice *** 2>/dev/null'],
      ['htpasswd -b .htpasswd alice S3 2>&1; echo x', 'htpasswd -b .htpasswd alice *** 2>&1; echo x'],
      // A second review: quoted words holding ; & >, -b not first, joined flags, an escaped blank.
      ["htpasswd -b f user 'p;S3'", 'htpasswd -b f user ***'],
      ['htpasswd -b f user "pa>S3" && echo ok', 'htpasswd -b f user *** && echo ok'],
      ['htpasswd -B -b f user S3', 'htpasswd -B -b f user ***'],
      ['sshpass -vp S3 ssh h', 'sshpass -vp *** ssh h'],
      ['sshpass -vpS3 ssh h', 'sshpass -vp*** ssh h'],
      ['sshpass -p my\\ S3 ssh h', 'sshpass -p *** ssh h'],
      ['redis-cli -a my\\ S3 ping', 'redis-cli -a *** ping'],
      ["mysql -e 'select 1; -- x' -pS3 db", "mysql -e 'select 1; -- x' -p*** db"],
      // sshpass's own -p only, not the wrapped command's (a review: ssh -p 2222 lost its port).
      ['sshpass -p S3 ssh -p 2222 host', 'sshpass -p *** ssh -p 2222 host'],
      ['sshpass -p S3 rsync -e "ssh -p 2222" a b', 'sshpass -p *** rsync -e "ssh -p 2222" a b'],
      [
        "sshpass -p 'a b' ssh h; sshpass -pS3 scp -P 2 a b",
        'sshpass -p *** ssh h; sshpass -p*** scp -P 2 a b',
      ],
    ];
    for (const [input, shown] of cases) expect(redactText(input), input).toBe(shown);
  });

  it('near-miss names and ordinary commands keep their values', () => {
    for (const name of NEAR_MISSES) {
      for (const form of [
        `${name}=v1`,
        `${name} = v1`,
        `{"${name}": "v1"}`,
        `tool --${name.replace(/_/g, '-')} v1`,
        `curl -H '${name.replace(/_/g, '-')}: v1' https://h/`,
      ]) {
        expect(redactText(form), form).toBe(form);
      }
    }
    for (const line of [
      'sort --key=2,3 f',
      'sort --key 2 f',
      'ssh --key-file ~/.ssh/id f',
      'rsync --bypass=1 a b',
      'mysql -P 3306 -h h db',
      'mysql -p db',
      'mongosh -p',
      'sshpass -f pwfile ssh -p 2222 h',
      'sshpass -e ssh -p 22 h',
      'htpasswd -B f user',
      'sshpass --help',
      'mongosh -p --quiet',
      'ldapsearch -W -b dc=x',
      'docker run -p 80:80 img',
      'gzip -P x f',
      'htpasswd -c .htpasswd user',
      'ls -p dir; echo sshpass',
      'cp -p a b',
      'echo -pX',
      'grep -p x f',
      'test "$a" = b',
      'a == b',
      // A path glued to a short option is no option name (a review of the change that let `.` `:` join one).
      'gcc -I/opt/tokenizers/include -O2 x.c',
      'tar -C/etc/ssl/private_keys -xf certs.tar',
      'rsync -e/usr/local/bin/ssh-with-creds src/ host:dst/',
      'gcc -Ivendor.tokens -O2 x.c',
      // A quote after `name: ` that closes a quoted word: what follows is code, not a value.
      "echo 'session: '$(date) > log; cat 'other file'",
      "printf 'password: ' ; read -r x; echo 'done now'",
      'echo "token: "$x; echo "more"',
    ])
      expect(redactText(line), line).toBe(line);
  });

  it('a long run of `=` or names stays linear', () => {
    for (const text of [
      'a='.repeat(50_000),
      'DB_PASS'.repeat(20_000),
      'x_'.repeat(50_000) + '=',
      'mysql -'.repeat(30_000),
      // Header names (`X-Auth: …`): each run of name characters is tried once.
      'pass'.repeat(25_000),
      'key-'.repeat(25_000),
      'auth_'.repeat(20_000) + ':',
      'x-token:'.repeat(15_000),
      // The program rules (util/redact-programs.ts): quotes, escapes and options without end.
      'sshpass ' + '-a '.repeat(50_000),
      'htpasswd -b ' + 'a '.repeat(100_000),
      'htpasswd -b ' + '"'.repeat(50_000),
      'htpasswd -b ' + '\\'.repeat(100_000),
      'redis-cli ' + '\\ '.repeat(50_000),
      'mysql ' + "'".repeat(100_000),
    ]) {
      const t0 = Date.now();
      redactText(text);
      expect(Date.now() - t0).toBeLessThan(2000);
    }
  });
});
