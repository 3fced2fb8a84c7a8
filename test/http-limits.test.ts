// Issue "The merchant is untrusted input", item 6: one token must not exhaust the process. Over real HTTP:
// sessions capped per principal (429 + Retry-After, the least recently used idle one evicted to make room)
// and in all (503 + Retry-After), initialize counted by the per-principal rate limiter, and connections that
// trickle their headers or body cut off by the header and request timeouts.
import { request as httpRequest } from 'node:http';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/config.js';
import { silentLogger } from '../src/log.js';
import { RateLimiter } from '../src/server/rate-limit.js';
import { parseHttpTokens } from '../src/transports/bearer-tokens.js';
import { serveHttp, type HttpServeOptions, type HttpServer } from '../src/transports/http.js';
import { newToken, startHttpServer, type HttpServerProcess } from './support/http-server-process.js';
import { tempDir } from './support/server-process.js';

const ALICE = newToken('alice');
const BOB = newToken('bob');
const CAROL = newToken('carol');
const TOKENS = parseHttpTokens(`${ALICE}=alice,${BOB}=bob,${CAROL}=carol`)!;

const running: HttpServer[] = [];
const processes: HttpServerProcess[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.close()));
  await Promise.all(processes.splice(0).map((p) => p.stop()));
});

async function serve(options: Partial<HttpServeOptions>): Promise<HttpServer> {
  const server = await serveHttp({
    host: '127.0.0.1',
    port: 0,
    tokens: TOKENS,
    logger: silentLogger,
    newServer: () => new Server({ name: 'limits-test', version: '1.0.0' }, { capabilities: {} }),
    ...options,
  });
  running.push(server);
  return server;
}

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function send(url: string, token: string, init: { method?: string; body?: string; session?: string } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    const headers: Record<string, string> = {
      authorization: `Bearer ${token}`,
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      ...(init.session ? { 'mcp-session-id': init.session } : {}),
    };
    const req = httpRequest({ host: target.hostname, port: target.port, path: target.pathname, method: init.method ?? 'POST', headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end(init.body);
  });
}

const INITIALIZE = JSON.stringify({
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
});

async function initialize(url: string, token: string): Promise<Answer & { session?: string }> {
  const answer = await send(url, token, { body: INITIALIZE });
  return { ...answer, session: answer.headers['mcp-session-id'] as string | undefined };
}

function refusal(answer: Answer) {
  expect(answer.headers['content-type']).toMatch(/application\/json/);
  return (JSON.parse(answer.body) as { error: { message: string; data: Record<string, unknown> } }).error;
}

/** Opens a socket, sends `head`, then one byte of `drip` every `everyMs`; resolves with how long until the server closed it. */
function trickle(port: number, head: string, drip: string, everyMs: number, giveUpMs: number): Promise<{ closedAfterMs: number; received: string }> {
  return new Promise((resolve) => {
    const started = Date.now();
    const socket: Socket = connect(port, '127.0.0.1');
    let received = '';
    let i = 0;
    const timer = setInterval(() => {
      if (!socket.destroyed && i < drip.length) socket.write(drip[i++]);
    }, everyMs);
    const done = () => {
      clearInterval(timer);
      clearTimeout(giveUp);
      resolve({ closedAfterMs: Date.now() - started, received });
    };
    const giveUp = setTimeout(() => {
      socket.destroy();
      done();
    }, giveUpMs);
    socket.on('data', (d: Buffer) => (received += d.toString()));
    socket.on('error', () => {});
    socket.on('close', done);
    socket.write(head);
  });
}

describe('sessions per principal (item 6)', () => {
  it('past the cap, initialize gets 429 with Retry-After and a JSON body saying what to do; others are unaffected; DELETE frees a slot', async () => {
    const server = await serve({ maxSessionsPerPrincipal: 3, maxSessions: 100 });
    const opened: string[] = [];
    for (let i = 0; i < 3; i++) {
      const answer = await initialize(server.url, ALICE);
      expect(answer.status).toBe(200);
      opened.push(answer.session!);
    }
    const refused = await initialize(server.url, ALICE);
    expect(refused.status).toBe(429);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    const error = refusal(refused);
    expect(error.message).toMatch(/alice has 3 open MCP sessions, the limit is 3.*close unused ones with DELETE \/mcp/);
    expect(error.data).toMatchObject({ reason: 'sessions_per_principal', open_sessions: 3, limit: 3 });
    expect(server.sessionCount()).toBe(3);
    // Another principal has its own allowance.
    expect((await initialize(server.url, BOB)).status).toBe(200);
    // Closing one with DELETE /mcp makes room at once.
    expect((await send(server.url, ALICE, { method: 'DELETE', session: opened[0] })).status).toBe(200);
    expect((await initialize(server.url, ALICE)).status).toBe(200);
  });

  it('1,000 initializes in a burst from one token leave at most the cap open', async () => {
    const server = await serve({ maxSessionsPerPrincipal: 16, maxSessions: 256 });
    const answers = await Promise.all(Array.from({ length: 1000 }, () => initialize(server.url, ALICE)));
    expect(answers.filter((a) => a.status === 200)).toHaveLength(16);
    expect(answers.filter((a) => a.status === 429)).toHaveLength(984);
    expect(server.sessionCount()).toBe(16);
  });

  it('at the cap, the least recently used session idle past the eviction age is closed to make room (its client gets 404)', async () => {
    const server = await serve({ maxSessionsPerPrincipal: 2, evictIdleMs: 300 });
    const first = (await initialize(server.url, ALICE)).session!;
    const second = (await initialize(server.url, ALICE)).session!;
    expect((await initialize(server.url, ALICE)).status).toBe(429); // nothing idle long enough yet
    await new Promise((r) => setTimeout(r, 350));
    // Using the first session makes the second the least recently used.
    const ping = JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'ping' });
    expect((await send(server.url, ALICE, { body: ping, session: first })).status).toBe(200);
    expect((await initialize(server.url, ALICE)).status).toBe(200);
    expect((await send(server.url, ALICE, { body: ping, session: second })).status).toBe(404);
    expect((await send(server.url, ALICE, { body: ping, session: first })).status).toBe(200);
    expect(server.sessionCount()).toBe(2);
  });

  it('idle sessions are closed after sessionIdleMs', async () => {
    const server = await serve({ sessionIdleMs: 200 });
    await initialize(server.url, ALICE);
    expect(server.sessionCount()).toBe(1);
    await new Promise((r) => setTimeout(r, 700));
    expect(server.sessionCount()).toBe(0);
  });
});

describe('sessions in all (item 6)', () => {
  it('past the global cap, initialize gets 503 with Retry-After, whoever asks', async () => {
    const server = await serve({ maxSessionsPerPrincipal: 2, maxSessions: 3 });
    expect((await initialize(server.url, ALICE)).status).toBe(200);
    expect((await initialize(server.url, ALICE)).status).toBe(200);
    expect((await initialize(server.url, BOB)).status).toBe(200);
    const refused = await initialize(server.url, CAROL);
    expect(refused.status).toBe(503);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(refusal(refused)).toMatchObject({ message: expect.stringMatching(/limit is 3.*DELETE \/mcp/), data: { reason: 'sessions_total', limit: 3 } });
  });
});

describe('initialize is rate-limited per principal (item 6)', () => {
  it('past the rate, initialize gets 429 with Retry-After; another principal still opens', async () => {
    const server = await serve({ sessionOpenLimiter: new RateLimiter({ perMinute: 2 }) });
    expect((await initialize(server.url, ALICE)).status).toBe(200);
    expect((await initialize(server.url, ALICE)).status).toBe(200);
    const refused = await initialize(server.url, ALICE);
    expect(refused.status).toBe(429);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(refusal(refused)).toMatchObject({ message: expect.stringMatching(/may open 2 a minute \(ONCE_RATE_LIMIT\)/), data: { reason: 'session_rate' } });
    expect((await initialize(server.url, BOB)).status).toBe(200);
  });
});

describe('slow clients are cut off (item 6)', () => {
  it('a connection trickling its headers is closed after the header timeout', async () => {
    const server = await serve({ headersTimeoutMs: 500, requestTimeoutMs: 1_000 });
    const port = Number(new URL(server.url).port);
    const result = await trickle(port, 'POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\n', 'X-Slow: ' + 'a'.repeat(200), 50, 8_000);
    expect(result.closedAfterMs).toBeLessThan(3_000);
  });

  it('an authenticated connection trickling its body is closed after the request timeout', async () => {
    const server = await serve({ headersTimeoutMs: 500, requestTimeoutMs: 1_000 });
    const url = new URL(server.url);
    const head = `POST /mcp HTTP/1.1\r\nHost: ${url.host}\r\nAuthorization: Bearer ${ALICE}\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\nContent-Length: ${INITIALIZE.length}\r\n\r\n`;
    const result = await trickle(Number(url.port), head, INITIALIZE, 50, 8_000);
    expect(result.closedAfterMs).toBeLessThan(3_500);
    expect(server.sessionCount()).toBe(0);
  });
});

describe('the server as run (item 6)', () => {
  it('ONCE_HTTP_MAX_SESSIONS_PER_PRINCIPAL caps sessions (429 + Retry-After), the started line states the limits, and the default header timeout cuts a trickler', async () => {
    const server = await startHttpServer({
      ONCE_STORE: `sqlite://${join(tempDir('once-limits-'), 'ledger.db')}`,
      ONCE_HTTP_TOKENS: `${ALICE}=alice`,
      ONCE_HTTP_MAX_SESSIONS_PER_PRINCIPAL: '2',
    });
    processes.push(server);
    const started = JSON.parse(server.stderr.find((l) => l.includes('"started"'))!) as { http_limits: string };
    expect(started.http_limits).toMatch(/^2 sessions per principal, 256 in all; idle sessions closed after 10 min; 60 session opens/);
    expect((await initialize(server.url, ALICE)).status).toBe(200);
    expect((await initialize(server.url, ALICE)).status).toBe(200);
    const refused = await initialize(server.url, ALICE);
    expect(refused.status).toBe(429);
    expect(refused.headers['retry-after']).toMatch(/^\d+$/);
    const result = await trickle(server.port, 'POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\n', 'X-Slow: ' + 'a'.repeat(400), 100, 20_000);
    expect(result.closedAfterMs).toBeGreaterThan(9_000);
    expect(result.closedAfterMs).toBeLessThan(13_000);
  }, 30_000);
});

describe('HTTP limit settings (item 6)', () => {
  it('default to 16 sessions per principal, 256 in all, idle sessions closed after 10 minutes', () => {
    expect(loadConfig({}).http).toEqual({ maxSessionsPerPrincipal: 16, maxSessions: 256, sessionIdleMs: 600_000 });
    expect(loadConfig({ ONCE_HTTP_MAX_SESSIONS: '8' }).http.maxSessionsPerPrincipal).toBe(8);
    expect(
      loadConfig({ ONCE_HTTP_MAX_SESSIONS: '1000', ONCE_HTTP_MAX_SESSIONS_PER_PRINCIPAL: '50', ONCE_HTTP_SESSION_IDLE: '30m' }).http,
    ).toEqual({ maxSessionsPerPrincipal: 50, maxSessions: 1000, sessionIdleMs: 1_800_000 });
  });

  it.each([
    [{ ONCE_HTTP_MAX_SESSIONS: '0' }, /^ONCE_HTTP_MAX_SESSIONS: "0" is not a session count/],
    [{ ONCE_HTTP_MAX_SESSIONS_PER_PRINCIPAL: 'lots' }, /^ONCE_HTTP_MAX_SESSIONS_PER_PRINCIPAL: "lots" is not a session count/],
    [{ ONCE_HTTP_MAX_SESSIONS: '10', ONCE_HTTP_MAX_SESSIONS_PER_PRINCIPAL: '20' }, /above ONCE_HTTP_MAX_SESSIONS \(10\)/],
    [{ ONCE_HTTP_SESSION_IDLE: 'soon' }, /^ONCE_HTTP_SESSION_IDLE: "soon" is not a duration/],
    [{ ONCE_HTTP_MAX_SESSION: '5' }, /^ONCE_HTTP_MAX_SESSION: is not a once-checkout setting/],
  ])('refuses %j in one line', (env, message) => {
    expect(() => loadConfig(env)).toThrow(message);
  });
});
