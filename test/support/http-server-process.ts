// Spawns the built server in HTTP mode (node dist/src/index.js serve --http …) and talks to it with the MCP
// SDK's Streamable HTTP client, each client with its own bearer token.
import { spawn, type ChildProcess } from 'node:child_process';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ElicitRequestSchema, type CallToolResult, type ElicitResult } from '@modelcontextprotocol/sdk/types.js';
import { BIN } from './server-process.js';

export interface HttpServerProcess {
  url: string;
  port: number;
  child: ChildProcess;
  /** Every stderr line so far (JSON log lines). */
  stderr: string[];
  stop(): Promise<void>;
}

/** Starts the server and waits for its `started` log line, which names the URL. */
export async function startHttpServer(env: Record<string, string>, listen = '127.0.0.1:0'): Promise<HttpServerProcess> {
  const child = spawn(process.execPath, [BIN, 'serve', '--http', listen], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stderr: string[] = [];
  let partial = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the HTTP server did not start:\n${stderr.join('\n')}${partial}`)), 20_000);
    child.stderr!.on('data', (chunk: Buffer) => {
      partial += chunk.toString();
      const lines = partial.split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        stderr.push(line);
        const started = /"event":"started".*"url":"([^"]+)"/.exec(line);
        if (started) {
          clearTimeout(timer);
          resolve(started[1]);
        }
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the HTTP server exited with ${code}:\n${stderr.join('\n')}${partial}`));
    });
  });
  // Resolves once the process has exited and its last stderr line is in `stderr`.
  const closed = new Promise<void>((resolve) =>
    child.stderr!.once('close', () => {
      if (partial !== '') stderr.push(partial);
      partial = '';
      resolve();
    }),
  );
  return {
    url,
    port: Number(new URL(url).port),
    child,
    stderr,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await closed;
    },
  };
}

export interface HttpClient {
  client: Client;
  /** Every tool result this client received (for the secrets scan). */
  results: CallToolResult[];
  /** Every elicitation message the server sent this client. */
  asked: string[];
  call(name: string, args: Record<string, unknown>): Promise<CallToolResult>;
  close(): Promise<void>;
}

export interface ConnectOptions {
  /** Declares the elicitation capability and answers each request with this. */
  elicit?: (message: string) => ElicitResult;
  headers?: Record<string, string>;
}

export async function connectHttp(url: string, token: string | undefined, options: ConnectOptions = {}): Promise<HttpClient> {
  const headers: Record<string, string> = { ...(token === undefined ? {} : { authorization: `Bearer ${token}` }), ...options.headers };
  const transport = new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers } });
  const client = new Client(
    { name: 'once-checkout-http-tests', version: '1.0.0' },
    { capabilities: options.elicit ? { elicitation: {} } : {} },
  );
  const asked: string[] = [];
  if (options.elicit) {
    const answer = options.elicit;
    client.setRequestHandler(ElicitRequestSchema, async (request) => {
      asked.push(request.params.message);
      return answer(request.params.message);
    });
  }
  await client.connect(transport);
  const results: CallToolResult[] = [];
  return {
    client,
    results,
    asked,
    call: async (name, args) => {
      const result = (await client.callTool({ name, arguments: args })) as CallToolResult;
      results.push(result);
      return result;
    },
    close: () => client.close(),
  };
}

/** A random bearer token of the shape an operator would generate. */
export function newToken(label: string): string {
  return `${label}_${crypto.randomUUID().replace(/-/g, '')}`;
}
