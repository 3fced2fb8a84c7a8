// GET /metrics in HTTP mode: Prometheus text, behind its own bearer token (ONCE_METRICS_TOKEN). A scraper's token
// is not a buyer's: it can read counts across every principal and cannot call a tool, and a buyer's token
// cannot read other principals' volumes. Same port, so the TLS proxy and Host checks in front of /mcp cover it.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ConfigError } from '../config/config-error.js';
import { readSettingFile } from '../config/config-file.js';
import type { PrometheusText } from '../telemetry/metrics.js';
import { BearerTokens } from './bearer-tokens.js';

export const METRICS_PATH = '/metrics';
const METRICS_REALM = 'once-checkout-metrics';
const VARIABLE = 'ONCE_METRICS_TOKEN';
const MIN_TOKEN_LENGTH = 16;

export interface MetricsEndpoint {
  tokens: BearerTokens;
  exposition: PrometheusText;
}

/** One token, several comma-separated (rotation), or `@/path/file` with one a line; undefined when unset. */
export function parseMetricsTokens(value: string | undefined, httpTokens?: BearerTokens): BearerTokens | undefined {
  const text = value?.trim();
  if (!text) return undefined;
  let tokens: string[];
  if (text.startsWith('@')) {
    tokens = readSettingFile(VARIABLE, text.slice(1), 'token file', 'Point @ at a readable file with one token a line');
  } else {
    tokens = text.split(',');
  }
  tokens = tokens.map((t) => t.trim()).filter((t) => t !== '' && !t.startsWith('#'));
  if (tokens.length === 0) throw new ConfigError(VARIABLE, 'lists no token', 'Set it to a random token of 16+ characters, e.g. from: openssl rand -hex 24');
  tokens.forEach((token, index) => {
    if (token.length < MIN_TOKEN_LENGTH || /\s/.test(token)) {
      throw new ConfigError(VARIABLE, `token ${index + 1} is too short or has spaces`, `Use random tokens of at least ${MIN_TOKEN_LENGTH} characters, e.g. from: openssl rand -hex 24`);
    }
    if (httpTokens?.principalFor(`Bearer ${token}`) !== undefined) {
      throw new ConfigError(VARIABLE, `token ${index + 1} is also in ONCE_HTTP_TOKENS`, 'Give the scraper a token of its own, so that reading metrics can never buy');
    }
  });
  return new BearerTokens(tokens.map((token) => [token, 'metrics'] as const));
}

/** Answers one request to /metrics (Host and Origin already checked). */
export async function answerMetrics(
  req: IncomingMessage,
  res: ServerResponse,
  endpoint: MetricsEndpoint,
  deny: (status: number, reason: string, message: string, headers?: Record<string, string>) => void,
): Promise<void> {
  if (endpoint.tokens.principalFor(req.headers.authorization) === undefined) {
    const presented = req.headers.authorization !== undefined;
    return deny(401, presented ? 'metrics_invalid_token' : 'metrics_no_token', `Unauthorized: send Authorization: Bearer <token> with a token from ${VARIABLE}`, {
      'www-authenticate': presented ? `Bearer realm="${METRICS_REALM}", error="invalid_token"` : `Bearer realm="${METRICS_REALM}"`,
    });
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') return deny(405, 'method', 'Method not allowed: use GET', { allow: 'GET, HEAD' });
  const text = await endpoint.exposition.text();
  res.writeHead(200, { 'content-type': endpoint.exposition.contentType, 'cache-control': 'no-store' });
  res.end(req.method === 'HEAD' ? undefined : text);
}
