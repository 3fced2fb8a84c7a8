// UCP's webhook signatures (signatures.md): RFC 9421 HTTP Message Signatures over `@method`, `@authority`,
// `@path`, `content-digest` and `content-type` at least, ES256 (P-256, raw r||s) or ES384, with a key from the
// business's profile (`signing_keys`, JWK), and an RFC 9530 Content-Digest of the raw body. The structured
// fields (RFC 8941) are read and written with `structured-headers`; the keys and signatures with Node's crypto.
import { createHash, createPublicKey, sign as cryptoSign, verify as cryptoVerify, type KeyObject } from 'node:crypto';
import { parseDictionary, serializeDictionary, serializeInnerList, type InnerList, type Item } from 'structured-headers';

/** Components a business must sign on an order webhook: the target and the body. */
export const REQUIRED_COMPONENTS = ['@method', '@authority', '@path', 'content-digest', 'content-type'] as const;

export interface SignedRequest {
  method: string;
  /** The Host the request was sent to (`@authority`). */
  authority: string;
  /** Path and query, as sent. */
  target: string;
  /** Lower-cased header names. */
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

export type UcpVerification =
  | { ok: true; profile: string; keyid: string }
  | { ok: false; status: 400 | 401 | 403; code: 'signature_missing' | 'signature_invalid' | 'key_not_found' | 'digest_mismatch' | 'algorithm_unsupported' | 'profile_not_trusted' | 'invalid_profile_url'; message: string };

function bytes(buffer: Buffer): ArrayBuffer {
  return buffer.buffer.slice(buffer.byteOffset, buffer.byteOffset + buffer.byteLength) as ArrayBuffer;
}

export function contentDigest(body: Buffer | string): string {
  return serializeDictionary(new Map([['sha-256', [bytes(createHash('sha256').update(body).digest()), new Map()] as Item]]));
}

function header(headers: SignedRequest['headers'], name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}

/** RFC 9421 §2.5: one line per covered component, then `@signature-params`. */
function signatureBase(request: Omit<SignedRequest, 'body'>, covered: InnerList): string | undefined {
  const lines: string[] = [];
  const url = new URL(request.target, 'http://placeholder');
  for (const [name] of covered[0]) {
    if (typeof name !== 'string') return undefined;
    let value: string | undefined;
    switch (name) {
      case '@method':
        value = request.method.toUpperCase();
        break;
      case '@authority':
        value = request.authority.toLowerCase();
        break;
      case '@path':
        value = url.pathname;
        break;
      case '@query':
        value = url.search === '' ? '?' : url.search;
        break;
      case '@target-uri':
        return undefined;
      default:
        value = header(request.headers, name)?.trim();
    }
    if (value === undefined) return undefined;
    lines.push(`${JSON.stringify(name)}: ${value}`);
  }
  lines.push(`"@signature-params": ${serializeInnerList(covered)}`);
  return lines.join('\n');
}

function algorithmOf(key: KeyObject): 'sha256' | 'sha384' | undefined {
  const curve = key.asymmetricKeyDetails?.namedCurve;
  return curve === 'prime256v1' ? 'sha256' : curve === 'secp384r1' ? 'sha384' : undefined;
}

/** The headers a business adds to sign `request` (tests and the reference business): ES256 with `privateKey`. */
export function signUcpRequest(request: Omit<SignedRequest, 'headers'> & { headers: Record<string, string> }, privateKey: KeyObject, keyid: string, created: number): Record<string, string> {
  const headers: Record<string, string> = { ...request.headers, 'content-digest': contentDigest(request.body) };
  const covered: InnerList = [
    [...REQUIRED_COMPONENTS, ...(headers['ucp-agent'] ? ['ucp-agent'] : [])].map((c) => [c, new Map()] as Item),
    new Map<string, string | number>([['created', created], ['keyid', keyid]]),
  ];
  const base = signatureBase({ ...request, headers }, covered)!;
  const signature = cryptoSign(algorithmOf(privateKey) ?? 'sha256', Buffer.from(base), { key: privateKey, dsaEncoding: 'ieee-p1363' });
  return {
    'content-digest': headers['content-digest'],
    'signature-input': serializeDictionary(new Map([['sig1', covered]])),
    signature: serializeDictionary(new Map([['sig1', [bytes(signature), new Map()] as Item]])),
  };
}

/** The profile URL a `UCP-Agent` header names (RFC 8941 dictionary, `profile` a string), or undefined. */
export function profileOf(value: string | undefined): string | undefined {
  if (!value) return undefined;
  try {
    const profile = parseDictionary(value).get('profile');
    return profile && !Array.isArray(profile[0]) && typeof profile[0] === 'string' ? profile[0] : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Verifies a business's signed request. `trusted` is the one profile URL whose keys we accept (the business this
 * server buys from; signatures.md: the signer must be the order's business); `keyFor` finds its key by kid.
 */
export async function verifyUcpRequest(
  request: SignedRequest,
  trusted: string,
  keyFor: (keyid: string) => Promise<KeyObject | undefined>,
): Promise<UcpVerification> {
  const refuse = (status: 400 | 401 | 403, code: Extract<UcpVerification, { ok: false }>['code'], message: string): UcpVerification => ({ ok: false, status, code, message });
  const profile = profileOf(header(request.headers, 'ucp-agent'));
  if (!profile) return refuse(400, 'invalid_profile_url', 'UCP-Agent must name the business profile: profile="https://…/.well-known/ucp".');
  if (profile !== trusted) return refuse(403, 'profile_not_trusted', 'This server takes order events only from the business it buys from.');
  const inputText = header(request.headers, 'signature-input');
  const signatureText = header(request.headers, 'signature');
  if (!inputText || !signatureText) return refuse(401, 'signature_missing', 'Signature and Signature-Input are required.');
  let label: string | undefined;
  let covered: InnerList | undefined;
  let signature: ArrayBuffer | undefined;
  try {
    const inputs = parseDictionary(inputText);
    const signatures = parseDictionary(signatureText);
    for (const [name, member] of inputs) {
      const value = signatures.get(name);
      if (!Array.isArray(member[0]) || !value || !(value[0] instanceof ArrayBuffer)) continue;
      label = name;
      covered = member as InnerList;
      signature = value[0];
      break;
    }
  } catch {
    return refuse(401, 'signature_invalid', 'Signature or Signature-Input is not a structured field.');
  }
  if (!label || !covered || !signature) return refuse(401, 'signature_missing', 'No signature matches a Signature-Input entry.');
  const names = covered[0].map(([name]) => name);
  if (REQUIRED_COMPONENTS.some((c) => !names.includes(c))) {
    return refuse(401, 'signature_invalid', `The signature must cover ${REQUIRED_COMPONENTS.join(', ')}.`);
  }
  const keyid = covered[1].get('keyid');
  if (typeof keyid !== 'string') return refuse(401, 'signature_invalid', 'Signature-Input names no keyid.');
  const digest = header(request.headers, 'content-digest');
  if (!digest || !digestMatches(digest, request.body)) return refuse(400, 'digest_mismatch', 'Content-Digest does not match the body (sha-256 of the raw bytes).');
  const key = await keyFor(keyid);
  if (!key) return refuse(401, 'key_not_found', `Key ${keyid.slice(0, 64)} is not among the business's signing_keys.`);
  const algorithm = algorithmOf(key);
  if (!algorithm) return refuse(400, 'algorithm_unsupported', 'Only ES256 (P-256) and ES384 (P-384) keys are accepted.');
  const base = signatureBase(request, covered);
  if (base === undefined) return refuse(401, 'signature_invalid', 'A covered component is missing from the request.');
  const valid = cryptoVerify(algorithm, Buffer.from(base), { key, dsaEncoding: 'ieee-p1363' }, Buffer.from(signature));
  return valid ? { ok: true, profile, keyid } : refuse(401, 'signature_invalid', 'Signature verification failed.');
}

function digestMatches(value: string, body: Buffer): boolean {
  try {
    const member = parseDictionary(value).get('sha-256');
    if (!member || !(member[0] instanceof ArrayBuffer)) return false;
    const expected = createHash('sha256').update(body).digest();
    const sent = Buffer.from(member[0]);
    return sent.length === expected.length && sent.equals(expected);
  } catch {
    return false;
  }
}

/** A JWK from a profile's `signing_keys` as a public key, or undefined when it is not an EC key we accept. */
export function publicKeyOf(jwk: unknown): KeyObject | undefined {
  if (typeof jwk !== 'object' || jwk === null) return undefined;
  const { kty, crv, x, y } = jwk as Record<string, unknown>;
  if (kty !== 'EC' || (crv !== 'P-256' && crv !== 'P-384') || typeof x !== 'string' || typeof y !== 'string') return undefined;
  try {
    return createPublicKey({ key: { kty, crv, x, y }, format: 'jwk' });
  } catch {
    return undefined;
  }
}
