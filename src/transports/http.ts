// The MCP server over Streamable HTTP at /mcp, for teams: every request passes the Host/Origin check (DNS
// rebinding), a bearer token that names its principal, and a body size limit, before the SDK transport sees
// it. Sessions (Mcp-Session-Id) hold only the MCP conversation, bound to the principal that opened them;
// checkout state lives in the store, so any process on that store can serve the next call.
import { randomUUID } from 'node:crypto';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { hostname, networkInterfaces } from 'node:os';
import type { AddressInfo } from 'node:net';
import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import { ConfigError } from '../config/config-error.js';
import type { Logger } from '../log.js';
import type { BearerTokens } from './bearer-tokens.js';

export const MCP_PATH = '/mcp';
export const REALM = 'once-checkout';
export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;
const DEFAULT_SESSION_IDLE_MS = 30 * 60_000;

export interface ListenAddress {
  host: string;
  port: number;
}

export interface HttpServeOptions extends ListenAddress {
  tokens: BearerTokens;
  logger: Logger;
  /** A fresh MCP server for one session, acting for the principal that opened it. */
  newServer(principal: string): Server;
  maxBodyBytes?: number;
  /** A session unused for this long is closed (its client simply opens a new one). */
  sessionIdleMs?: number;
}

export interface HttpServer {
  /** The endpoint, e.g. http://127.0.0.1:8080/mcp. */
  url: string;
  sessionCount(): number;
  close(): Promise<void>;
}

interface Session {
  transport: StreamableHTTPServerTransport;
  server: Server;
  principal: string;
  lastSeen: number;
}

/** `PORT`, `HOST:PORT` or `[IPv6]:PORT`; the host defaults to 127.0.0.1 (loopback only). */
export function parseListenAddress(text: string): ListenAddress {
  const match = /^(?:(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):)?(\d{1,5})$/.exec(text.trim());
  const port = match ? Number(match[2]) : NaN;
  if (!match || port > 65535) {
    throw new ConfigError('--http', `"${text}" is not [HOST:]PORT`, 'Write --http 8080 or --http 127.0.0.1:8080 (port 0 picks a free one)');
  }
  const host = match[1]?.replace(/^\[|\]$/g, '') ?? '127.0.0.1';
  return { host, port };
}

const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '[::1]'];

function bracketed(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

/** Host header values this server answers to: the bound address and the loopback names, with the port. */
export function allowedHosts(host: string, port: number): Set<string> {
  const names = new Set<string>([...LOOPBACK_NAMES, bracketed(host).toLowerCase()]);
  if (host === '0.0.0.0' || host === '::') {
    // Bound to every interface: the machine's own addresses and name, never any name a DNS record points here.
    names.add(hostname().toLowerCase());
    for (const infos of Object.values(networkInterfaces())) {
      for (const info of infos ?? []) names.add(bracketed(info.address).toLowerCase());
    }
  }
  const hosts = new Set<string>();
  for (const name of names) {
    hosts.add(`${name}:${port}`);
    if (port === 80) hosts.add(name);
  }
  return hosts;
}

function originAllowed(origin: string, hosts: Set<string>): boolean {
  try {
    const url = new URL(origin);
    return (url.protocol === 'http:' || url.protocol === 'https:') && hosts.has(url.host.toLowerCase());
  } catch {
    return false; // includes Origin: null (sandboxed frames, file://)
  }
}

function refuse(res: ServerResponse, status: number, message: string, headers: Record<string, string> = {}): void {
  if (res.headersSent) return;
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32000, message }, id: null }));
}

type Body = { ok: true; value: unknown } | { ok: false; status: number; message: string };

async function readJson(req: IncomingMessage, limit: number): Promise<Body> {
  const tooLarge: Body = { ok: false, status: 413, message: `Payload too large: the limit is ${limit} bytes` };
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) return tooLarge;
  // Listeners, not for-await: leaving a for-await early destroys the socket before the 413 is written.
  const text = await new Promise<string | undefined>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) return void chunks.push(chunk);
      req.off('data', onData);
      resolve(undefined);
    };
    req.on('data', onData);
    req.once('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.once('error', reject);
  });
  if (text === undefined) return tooLarge;
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false, status: 400, message: 'Parse error: the body is not JSON' };
  }
}

export async function serveHttp(options: HttpServeOptions): Promise<HttpServer> {
  const { tokens, logger } = options;
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const idleMs = options.sessionIdleMs ?? DEFAULT_SESSION_IDLE_MS;
  const sessions = new Map<string, Session>();
  let hosts = new Set<string>();

  const closeSession = async (id: string, why: string) => {
    const session = sessions.get(id);
    if (!session) return;
    sessions.delete(id);
    logger.log('info', 'session_closed', { session: id, principal: session.principal, why });
    await session.server.close().catch(() => {});
  };

  const openSession = async (principal: string): Promise<StreamableHTTPServerTransport> => {
    const server = options.newServer(principal);
    const transport: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (id) => {
        sessions.set(id, { transport, server, principal, lastSeen: Date.now() });
        logger.log('info', 'session_opened', { session: id, principal });
      },
      onsessionclosed: (id) => closeSession(id, 'client_deleted'),
    });
    transport.onclose = () => {
      if (transport.sessionId) void closeSession(transport.sessionId, 'transport_closed');
    };
    await server.connect(transport);
    return transport;
  };

  const denied = (req: IncomingMessage, res: ServerResponse, status: number, reason: string, message: string, headers?: Record<string, string>) => {
    logger.log('warn', 'http_refused', { status, reason, method: req.method, remote: req.socket.remoteAddress });
    refuse(res, status, message, headers);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== MCP_PATH) return denied(req, res, 404, 'path', `Not found: the MCP endpoint is ${MCP_PATH}`);
    // DNS rebinding: a browser page on another name must not reach this loopback server (403 before auth).
    const host = req.headers.host?.toLowerCase();
    if (!host || !hosts.has(host)) return denied(req, res, 403, 'host', 'Forbidden: this Host is not served here');
    const origin = req.headers.origin;
    if (origin !== undefined && !originAllowed(origin, hosts)) return denied(req, res, 403, 'origin', 'Forbidden: this Origin may not call this server');
    const principal = tokens.principalFor(req.headers.authorization);
    if (principal === undefined) {
      const presented = req.headers.authorization !== undefined;
      const challenge = presented ? `Bearer realm="${REALM}", error="invalid_token"` : `Bearer realm="${REALM}"`;
      return denied(req, res, 401, presented ? 'invalid_token' : 'no_token', 'Unauthorized: send Authorization: Bearer <token> with a token from ONCE_HTTP_TOKENS', {
        'www-authenticate': challenge,
      });
    }
    const method = req.method ?? '';
    if (method !== 'POST' && method !== 'GET' && method !== 'DELETE') {
      return denied(req, res, 405, 'method', 'Method not allowed: use POST, GET or DELETE', { allow: 'POST, GET, DELETE' });
    }
    let body: unknown;
    if (method === 'POST') {
      const read = await readJson(req, maxBodyBytes);
      if (!read.ok) {
        // Stop reading a body we will not use; the connection closes after this answer.
        req.resume();
        return denied(req, res, read.status, read.status === 413 ? 'body_too_large' : 'bad_json', read.message, { connection: 'close' });
      }
      body = read.value;
    }
    const sessionId = req.headers['mcp-session-id'];
    if (typeof sessionId === 'string') {
      const session = sessions.get(sessionId);
      // Another principal's session is indistinguishable from none at all.
      if (!session || session.principal !== principal) return denied(req, res, 404, 'unknown_session', 'Session not found: initialize a new session');
      session.lastSeen = Date.now();
      return session.transport.handleRequest(req, res, body);
    }
    const initializes = Array.isArray(body) ? body.some((m) => isInitializeRequest(m)) : isInitializeRequest(body);
    if (method !== 'POST' || !initializes) {
      return denied(req, res, 400, 'no_session', 'Bad request: send initialize first, then the Mcp-Session-Id header it returns');
    }
    const transport = await openSession(principal);
    await transport.handleRequest(req, res, body);
  };

  const http = createHttpServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      logger.log('warn', 'http_error', { message: error instanceof Error ? error.message : String(error) });
      refuse(res, 500, 'Internal error');
    });
  });

  await new Promise<void>((resolve, reject) => {
    http.once('error', (error: NodeJS.ErrnoException) =>
      reject(error.code === 'EADDRINUSE' || error.code === 'EADDRNOTAVAIL' || error.code === 'EACCES'
        ? new ConfigError('--http', `cannot listen on ${bracketed(options.host)}:${options.port} (${error.code})`, 'Pick another port or address')
        : error),
    );
    http.listen(options.port, options.host, () => resolve());
  });
  const port = (http.address() as AddressInfo).port;
  hosts = allowedHosts(options.host, port);

  const reaper = setInterval(() => {
    const now = Date.now();
    for (const [id, session] of sessions) {
      if (now - session.lastSeen > idleMs) void closeSession(id, 'idle');
    }
  }, Math.min(idleMs, 60_000));
  reaper.unref();

  return {
    url: `http://${bracketed(options.host)}:${port}${MCP_PATH}`,
    sessionCount: () => sessions.size,
    async close() {
      clearInterval(reaper);
      await Promise.all([...sessions.keys()].map((id) => closeSession(id, 'shutdown')));
      await new Promise<void>((resolve) => {
        http.close(() => resolve());
        http.closeAllConnections();
      });
    },
  };
}
