// HTTP mode's bearer tokens (ONCE_HTTP_TOKENS): each token names the principal it buys for. Tokens are
// compared in constant time over fixed-length hashes, and never appear in an error, a log or a record.
import { createHash, timingSafeEqual } from 'node:crypto';
import { ConfigError } from '../config/config-error.js';
import { readSettingFile } from '../config/config-file.js';

const VARIABLE = 'ONCE_HTTP_TOKENS';
const PRINCIPAL = /^[A-Za-z0-9._@:-]{1,128}$/;
/** Shorter tokens can be guessed; a 16-character random token is the least we accept. */
const MIN_TOKEN_LENGTH = 16;

interface Entry {
  hash: Buffer;
  principal: string;
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

export class BearerTokens {
  private readonly entries: Entry[];

  constructor(pairs: ReadonlyArray<readonly [token: string, principal: string]>) {
    this.entries = pairs.map(([token, principal]) => ({ hash: sha256(token), principal }));
  }

  get size(): number {
    return this.entries.length;
  }

  get principals(): string[] {
    return [...new Set(this.entries.map((e) => e.principal))];
  }

  /** The principal for an `Authorization` header value, or undefined. Checks every entry, match or not. */
  principalFor(authorization: string | undefined): string | undefined {
    return this.identify(authorization)?.principal;
  }

  /**
   * The token presented (by its position in the list, never its text) and the principal it names: a session is
   * bound to the token that opened it, so another token of the same principal cannot use it.
   */
  identify(authorization: string | undefined): { principal: string; token: number } | undefined {
    const match = /^Bearer[ ]+(\S+)\s*$/i.exec(authorization ?? '');
    if (!match) return undefined;
    const presented = sha256(match[1]);
    let found: { principal: string; token: number } | undefined;
    this.entries.forEach((entry, token) => {
      if (timingSafeEqual(presented, entry.hash) && found === undefined) found = { principal: entry.principal, token };
    });
    return found;
  }
}

/**
 * `token=principal` pairs, comma-separated, or `@/path/file` with one pair a line (blank lines and `#`
 * comments allowed). Undefined when the variable is unset; a malformed value is a ConfigError that names
 * the pair by its position, never by its token.
 */
export function parseHttpTokens(value: string | undefined): BearerTokens | undefined {
  const text = value?.trim();
  if (!text) return undefined;
  let pairs: string[];
  let where: (n: number) => string;
  if (text.startsWith('@')) {
    const path = text.slice(1);
    pairs = readSettingFile(VARIABLE, path, 'token file', 'Point @ at a readable file with one token=principal pair a line');
    where = (n) => `line ${n + 1} of ${path}`;
  } else {
    pairs = text.split(',');
    where = (n) => `pair ${n + 1}`;
  }
  const seen = new Set<string>();
  const parsed: Array<[string, string]> = [];
  pairs.forEach((raw, index) => {
    const pair = raw.trim();
    if (pair === '' || pair.startsWith('#')) return;
    // Split at the last '=': base64 tokens end in '=', principal names never contain one.
    const at = pair.lastIndexOf('=');
    const token = at < 0 ? '' : pair.slice(0, at).trim();
    const principal = at < 0 ? '' : pair.slice(at + 1).trim();
    if (!token || !principal) {
      throw new ConfigError(VARIABLE, `${where(index)} is not token=principal`, 'Write ONCE_HTTP_TOKENS=token1=alice,token2=bob or @/path/file');
    }
    if (!PRINCIPAL.test(principal)) {
      throw new ConfigError(VARIABLE, `the principal in ${where(index)} is not a principal name`, 'Use 1-128 letters, digits or . _ @ : -');
    }
    if (token.length < MIN_TOKEN_LENGTH || /\s/.test(token)) {
      throw new ConfigError(VARIABLE, `the token in ${where(index)} is too short or has spaces`, `Use random tokens of at least ${MIN_TOKEN_LENGTH} characters, e.g. from: openssl rand -hex 24`);
    }
    if (seen.has(token)) throw new ConfigError(VARIABLE, `the token in ${where(index)} is listed twice`, 'Give each principal its own token');
    seen.add(token);
    parsed.push([token, principal]);
  });
  if (parsed.length === 0) throw new ConfigError(VARIABLE, 'lists no tokens', 'Add at least one token=principal pair');
  return new BearerTokens(parsed);
}
