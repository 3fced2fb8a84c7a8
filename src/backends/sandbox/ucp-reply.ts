// One HTTP answer of the sandbox's UCP side, computed in full before it is delivered, so an injected fault can
// drop, hold or replace it after the business acted (ucp-http.ts).
export interface HttpReply {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export function jsonReply(status: number, body: unknown, headers: Record<string, string> = {}): HttpReply {
  return { status, headers: { ...headers, 'Content-Type': 'application/json; charset=utf-8' }, body: JSON.stringify(body) };
}

/** UCP-Agent: an RFC 8941 dictionary whose `profile` member is the platform's profile URL. */
export function profileOf(header: string | undefined): string | undefined {
  const match = /(?:^|,)\s*profile\s*=\s*"([^"\\]*)"/.exec(header ?? '');
  return match && isProfileUrl(match[1]) ? match[1] : undefined;
}

export function isProfileUrl(text: unknown): text is string {
  if (typeof text !== 'string' || text.length > 2048) return false;
  try {
    const url = new URL(text);
    return url.protocol === 'https:' || url.protocol === 'http:';
  } catch {
    return false;
  }
}
