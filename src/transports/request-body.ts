// Reading a request's body within a size limit, and answering JSON: the MCP endpoint and the order event
// receivers read bodies the same way (listeners, not for-await: leaving a for-await early destroys the socket
// before the 413 is written).
import type { IncomingMessage, ServerResponse } from 'node:http';

/** The raw body; 'too_large' past `limit` (declared or sent); 'gone' when the client left or was cut off. */
export async function readRawBody(req: IncomingMessage, limit: number): Promise<Buffer | 'too_large' | 'gone'> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) return 'too_large';
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) return void chunks.push(chunk);
      req.off('data', onData);
      resolve('too_large');
    };
    req.on('data', onData);
    req.once('end', () => resolve(Buffer.concat(chunks)));
    // Cut off (the request timeout, or the client hung up) before the body was complete.
    req.once('error', () => resolve('gone'));
    req.once('close', () => resolve('gone'));
  });
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent || res.destroyed) return;
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)), ...headers });
  res.end(text);
}
