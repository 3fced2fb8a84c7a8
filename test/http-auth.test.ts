// HTTP mode's parts without a network: ONCE_HTTP_TOKENS parsing, bearer checks, listen addresses, and the
// Host names the DNS-rebinding check accepts.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../src/config/config-error.js';
import { DEFAULT_HTTP_RATE_LIMIT, loadConfig } from '../src/config/config.js';
import { parseHttpTokens } from '../src/transports/bearer-tokens.js';
import { allowedHosts, parseListenAddress } from '../src/transports/http.js';
import { tempDir } from './support/server-process.js';

const A = 'a'.repeat(24);
const B = 'Zm9vYmFyYmF6cXV4cXV1eA==';

describe('ONCE_HTTP_TOKENS', () => {
  it('reads comma-separated token=principal pairs; base64 tokens ending in = are split at the last =', () => {
    const tokens = parseHttpTokens(` ${A}=alice , ${B}=bob `)!;
    expect(tokens.size).toBe(2);
    expect(tokens.principals).toEqual(['alice', 'bob']);
    expect(tokens.principalFor(`Bearer ${A}`)).toBe('alice');
    expect(tokens.principalFor(`bearer ${B}`)).toBe('bob');
  });

  it('reads @file with one pair a line, comments and blank lines allowed', () => {
    const file = join(tempDir('once-tokens-'), 'tokens');
    writeFileSync(file, `# team tokens\n${A}=alice\n\n${B}=bob\n`);
    expect(parseHttpTokens(`@${file}`)!.principalFor(`Bearer ${B}`)).toBe('bob');
  });

  it('answers undefined for no header, another scheme, a wrong token, a prefix or an extension of a token', () => {
    const tokens = parseHttpTokens(`${A}=alice`)!;
    for (const header of [undefined, '', `Basic ${A}`, `Bearer ${A.slice(1)}`, `Bearer ${A}x`, 'Bearer', `Bearer ${A} extra`]) {
      expect(tokens.principalFor(header)).toBeUndefined();
    }
  });

  it.each([
    ['no =', 'justatokenwithoutprincipal', /pair 1 is not token=principal/],
    ['a short token', 'short=alice', /too short/],
    ['a bad principal', `${A}=al ice!`, /principal in pair 1/],
    ['a duplicate', `${A}=alice,${A}=bob`, /listed twice/],
    ['only commas', ',,', /lists no tokens/],
    ['a missing file', '@/nonexistent/tokens', /cannot read the token file \/nonexistent\/tokens \(ENOENT\)/],
  ])('refuses %s in one line that never shows a token', (_label, value, message) => {
    let error: unknown;
    try {
      parseHttpTokens(value);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).not.toContain(A);
    expect((error as Error).message).not.toContain('justatoken');
    expect((error as Error).message.split('\n')).toHaveLength(1);
  });

  it('unset means no tokens (serve --http then refuses to start)', () => {
    expect(parseHttpTokens(undefined)).toBeUndefined();
    expect(parseHttpTokens('  ')).toBeUndefined();
  });
});

describe('--http [HOST:]PORT', () => {
  it.each([
    ['8080', { host: '127.0.0.1', port: 8080 }],
    ['0', { host: '127.0.0.1', port: 0 }],
    ['0.0.0.0:9000', { host: '0.0.0.0', port: 9000 }],
    ['localhost:80', { host: 'localhost', port: 80 }],
    ['[::1]:8080', { host: '::1', port: 8080 }],
  ])('%s', (text, expected) => {
    expect(parseListenAddress(text)).toEqual(expected);
  });

  it.each(['', 'http://x:1', '70000', 'host:', ':80', 'a b:80'])('refuses %j', (text) => {
    expect(() => parseListenAddress(text)).toThrow(/--http: .* is not \[HOST:\]PORT/);
  });
});

describe('the Host names served (DNS rebinding)', () => {
  it('loopback: the bound address and localhost variants, with the port only', () => {
    const hosts = allowedHosts('127.0.0.1', 8080);
    expect([...hosts].sort()).toEqual(['127.0.0.1:8080', '[::1]:8080', 'localhost:8080']);
  });

  it('a wildcard bind adds the machine’s own addresses, never an arbitrary name', () => {
    const hosts = allowedHosts('0.0.0.0', 8080);
    expect(hosts.has('localhost:8080')).toBe(true);
    expect(hosts.has('evil.example:8080')).toBe(false);
  });
});

describe('ONCE_RATE_LIMIT', () => {
  it('unset leaves the mode default (60 a minute over HTTP); accepts N and N/min; off or 0 turns it off; anything else is refused', () => {
    expect(loadConfig({}).rateLimitPerMinute).toBeUndefined();
    expect(DEFAULT_HTTP_RATE_LIMIT).toBe(60);
    expect(loadConfig({ ONCE_RATE_LIMIT: '10' }).rateLimitPerMinute).toBe(10);
    expect(loadConfig({ ONCE_RATE_LIMIT: '120/min' }).rateLimitPerMinute).toBe(120);
    expect(loadConfig({ ONCE_RATE_LIMIT: 'off' }).rateLimitPerMinute).toBe(0);
    expect(loadConfig({ ONCE_RATE_LIMIT: '0' }).rateLimitPerMinute).toBe(0);
    expect(() => loadConfig({ ONCE_RATE_LIMIT: 'fast' })).toThrow(/ONCE_RATE_LIMIT: "fast" is not a rate/);
  });
});
