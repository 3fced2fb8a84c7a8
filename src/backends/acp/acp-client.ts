// The one ACP protocol path, whatever carries it: picks the version (fixed, or `auto`), builds each request for
// it (requests.ts), sends it through a transport (REST, MCP binding, in process), waits out a merchant's
// idempotency_in_flight a bounded while under the same key, and reads every answer through acp-answer.ts.
// The AcpBackend and the SandboxBackend are this client over different transports.
import { redactDeep } from '../../commerce/redact.js';
import type { CancelInput, CompleteInput, CreateInput, UpdateInput } from '../../commerce/inputs.js';
import type { CheckoutSession } from '../../commerce/session.js';
import { parseMerchantSession } from '../../commerce/merchant-session.js';
import { systemClock } from '../../ledger/clock.js';
import type { BackendResult, CallContext } from '../backend.js';
import { answerToResult } from './acp-answer.js';
import { reshapeLegacySession } from './legacy-session.js';
import { advertisedHandlers, chooseHandler } from './payment-handlers.js';
import { cancelBody, completeBody, createBody, updateBody, type Built } from './requests.js';
import type { AcpCall, AcpOperationName, AcpReply, AcpTransport } from './transport.js';
import { ACP_VERSIONS, LATEST_ACP_VERSION, newestCommon, shapeOf, type AcpVersion } from './versions.js';

export interface InFlightPolicy {
  /** How many times a 409 idempotency_in_flight is waited out and resent with the same key. */
  maxResends: number;
  /** The most all those waits may add up to. */
  maxTotalWaitMs: number;
}

export const DEFAULT_IN_FLIGHT: InFlightPolicy = { maxResends: 3, maxTotalWaitMs: 10_000 };
// Without a usable Retry-After we wait this long before resending.
const DEFAULT_RETRY_AFTER_MS = 1_000;
/** The session id of the version probe: a read of a session no merchant has. */
const PROBE_ID = 'cs_once_checkout_version_probe';

export interface AcpClientOptions {
  transport: AcpTransport;
  /** A released version, or `auto`: discovered from the merchant (newest both speak). */
  version: AcpVersion | 'auto';
  /** What never leaves in a result: the bearer token. */
  secrets: readonly string[];
  inFlight?: InFlightPolicy;
  sleep?: (ms: number) => Promise<void>;
}

/** The version in use and how it was chosen, for the start-up log and doctor. */
export interface Negotiated {
  version: AcpVersion;
  how: string;
}

/** A request that could not be built: invalid input (terminal), or a read it needed went unanswered. */
type Prepared = Built | { ok: false; unknown: string };

export class AcpClient {
  private negotiated?: Negotiated;
  private negotiating?: Promise<Negotiated>;
  private readonly inFlight: InFlightPolicy;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(private readonly options: AcpClientOptions) {
    this.inFlight = options.inFlight ?? DEFAULT_IN_FLIGHT;
    this.sleep = options.sleep ?? systemClock.sleep;
  }

  get transport(): AcpTransport {
    return this.options.transport;
  }

  /** The version every call uses; with `auto`, discovered once (and again when the merchant refuses it). */
  async protocol(): Promise<Negotiated> {
    const configured = this.options.version;
    if (configured !== 'auto') return { version: configured, how: 'set by ACP_API_VERSION' };
    if (this.negotiated) return this.negotiated;
    this.negotiating ??= this.negotiate().finally(() => {
      this.negotiating = undefined;
    });
    return this.negotiating;
  }

  create(input: CreateInput, ctx: CallContext): Promise<BackendResult> {
    return this.call('create', undefined, (v) => createBody(input, v), ctx);
  }

  update(id: string, input: UpdateInput, ctx: CallContext): Promise<BackendResult> {
    return this.call('update', id, (v) => updateBody(input, v), ctx);
  }

  complete(id: string, input: CompleteInput, ctx: CallContext): Promise<BackendResult> {
    return this.call('complete', id, (v) => this.completeRequest(id, input, v), ctx);
  }

  cancel(id: string, input: CancelInput, ctx: CallContext): Promise<BackendResult> {
    return this.call('cancel', id, (v) => cancelBody(input, v), ctx);
  }

  get(id: string): Promise<BackendResult> {
    return this.call('get', id, () => ({ ok: true, body: {} }), undefined);
  }

  private async negotiate(): Promise<Negotiated> {
    const document = await this.options.transport.discover().catch(() => undefined);
    const listed = discoveredVersions(document);
    if (listed) return this.settle(listed, '/.well-known/acp.json');
    // No discovery document: a read of a session nobody has is answered 404 in a version the merchant speaks,
    // or 400 unsupported_api_version with the versions it does (2026-01-16 on). It sends nothing that acts.
    const reply = await this.options.transport.send({ operation: 'get', id: PROBE_ID, apiVersion: LATEST_ACP_VERSION });
    if (reply.kind === 'no_reply') return { version: LATEST_ACP_VERSION, how: `auto: the merchant did not answer yet (${reply.reason}); trying ${LATEST_ACP_VERSION}` };
    const offered = refusedVersion(reply);
    if (offered) return this.settle(offered, 'its unsupported_api_version answer');
    this.negotiated = { version: LATEST_ACP_VERSION, how: `auto: no /.well-known/acp.json; the merchant accepts ${LATEST_ACP_VERSION}` };
    return this.negotiated;
  }

  private settle(theirs: readonly unknown[], source: string): Negotiated {
    const shared = newestCommon(ACP_VERSIONS, theirs);
    const list = versionList(theirs);
    this.negotiated = shared
      ? { version: shared, how: `auto: ${source} lists ${list}; newest we both speak` }
      : { version: LATEST_ACP_VERSION, how: `auto: ${source} lists ${list}, none of which we speak; trying ${LATEST_ACP_VERSION}` };
    return this.negotiated;
  }

  /** Complete's body; without a handler_id, the one handler the session advertises for the instrument. */
  private async completeRequest(id: string, input: CompleteInput, version: AcpVersion): Promise<Prepared> {
    if (shapeOf(version) !== 'handlers' || input.payment_data.handler_id !== undefined) return completeBody(input, version);
    const reply = await this.options.transport.send({ operation: 'get', id, apiVersion: version });
    if (reply.kind === 'no_reply') return { ok: false, unknown: `the checkout could not be read to choose a payment handler (${reply.reason})` };
    const parsed = reply.status === 200 ? parseMerchantSession(reshapeLegacySession(redactDeep(reply.body, this.options.secrets))) : undefined;
    if (!parsed?.ok) return { ok: false, unknown: `the checkout could not be read to choose a payment handler (status ${reply.status})` };
    const choice = chooseHandler(advertisedHandlers(parsed.session), input.payment_data.instrument.type);
    if (!choice.ok) return { ok: false, message: choice.message };
    return completeBody({ ...input, payment_data: { ...input.payment_data, handler_id: choice.id } }, version);
  }

  private async call(
    operation: AcpOperationName,
    id: string | undefined,
    build: (version: AcpVersion) => Prepared | Promise<Prepared>,
    ctx: CallContext | undefined,
  ): Promise<BackendResult> {
    let { version } = await this.protocol();
    for (let round = 0; ; round += 1) {
      const prepared = await build(version);
      if (!prepared.ok) {
        // Nothing of this call was sent.
        if ('unknown' in prepared) return redactDeep({ kind: 'unknown', reason: prepared.unknown }, this.options.secrets);
        return { kind: 'failed', code: 'invalid_input', message: prepared.message };
      }
      const call: AcpCall = { operation, id, body: prepared.body, apiVersion: version, idempotencyKey: ctx?.idempotencyKey, requestId: ctx?.requestId };
      const reply = await this.sendWaitingOutInFlight(call);
      const offered = refusedVersion(reply);
      if (offered) {
        // Refused before it acted: the same key may go again, in a version the merchant speaks.
        const before = version;
        if (this.options.version === 'auto' && round === 0) {
          version = this.settle(offered, 'its unsupported_api_version answer').version;
          if (version !== before) continue;
        }
        const list = versionList(offered);
        return {
          kind: 'failed',
          code: 'unsupported_api_version',
          message: `The merchant does not speak ACP ${before}; it lists ${list}. Set ACP_API_VERSION to one of them, or to auto.`,
        };
      }
      return this.toResult(operation, reply, id, version);
    }
  }

  private async sendWaitingOutInFlight(call: AcpCall): Promise<AcpReply> {
    let reply = await this.options.transport.send(call);
    if (call.operation === 'get') return reply;
    let waitedMs = 0;
    for (let resend = 0; resend < this.inFlight.maxResends && isInFlight(reply); resend += 1) {
      const waitMs = retryAfterMs(reply.kind === 'reply' ? reply.retryAfter : undefined);
      if (waitedMs + waitMs > this.inFlight.maxTotalWaitMs) break;
      await this.sleep(waitMs);
      waitedMs += waitMs;
      // The first request with this key is still running at the merchant: ask again with the same key (R6).
      reply = await this.options.transport.send(call);
    }
    return reply;
  }

  private async toResult(operation: AcpOperationName, reply: AcpReply, id: string | undefined, version: AcpVersion): Promise<BackendResult> {
    const secrets = this.options.secrets;
    if (reply.kind === 'no_reply') return redactDeep({ kind: 'unknown', reason: reply.reason }, secrets);
    // Redacted before it is read too: a merchant that echoes our bearer token does not get it out (R10).
    const answer = redactDeep({ status: reply.status, body: reply.body, requestId: reply.requestId, text: reply.text }, secrets);
    const result = await answerToResult(operation, answer, () => this.current(id, version));
    return redactDeep(result, secrets);
  }

  /** The session as it stands now (for a 405 without one in its body). */
  private async current(id: string | undefined, version: AcpVersion): Promise<CheckoutSession | undefined> {
    if (id === undefined) return undefined;
    const reply = await this.options.transport.send({ operation: 'get', id, apiVersion: version });
    if (reply.kind !== 'reply' || reply.status !== 200) return undefined;
    const parsed = parseMerchantSession(reshapeLegacySession(redactDeep(reply.body, this.options.secrets)));
    return parsed.ok ? parsed.session : undefined;
  }
}

/** The versions a merchant lists, as they may join our sentences and logs: only date-shaped strings (it is merchant text). */
function versionList(theirs: readonly unknown[]): string {
  const dates = theirs.filter((v): v is string => typeof v === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(v)).slice(0, 10);
  return dates.length > 0 ? dates.join(', ') : 'no version we can read';
}

function isInFlight(reply: AcpReply): boolean {
  if (reply.kind !== 'reply' || reply.status !== 409) return false;
  const body = reply.body as { code?: unknown } | undefined;
  return body?.code === 'idempotency_in_flight';
}

/** The versions a 400 unsupported_api_version (or api_version_required) answer lists, if it is one. */
function refusedVersion(reply: AcpReply): unknown[] | undefined {
  if (reply.kind !== 'reply' || reply.status !== 400) return undefined;
  const body = reply.body as { code?: unknown; supported_versions?: unknown } | undefined;
  if (body?.code !== 'unsupported_api_version' && body?.code !== 'api_version_required' && body?.code !== 'missing_api_version') return undefined;
  return Array.isArray(body.supported_versions) ? body.supported_versions : undefined;
}

/** `protocol.supported_versions` of a discovery document (or its one `protocol.version`). */
function discoveredVersions(document: unknown): unknown[] | undefined {
  const protocol = (document as { protocol?: { supported_versions?: unknown; version?: unknown } } | undefined)?.protocol;
  if (Array.isArray(protocol?.supported_versions)) return protocol.supported_versions;
  return typeof protocol?.version === 'string' ? [protocol.version] : undefined;
}

/** Retry-After in seconds or as an HTTP date; anything else falls back to a default. */
export function retryAfterMs(header: string | undefined, now = Date.now()): number {
  if (header === undefined || header.trim() === '') return DEFAULT_RETRY_AFTER_MS;
  const text = header.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1_000;
  const at = Date.parse(text);
  return Number.isNaN(at) ? DEFAULT_RETRY_AFTER_MS : Math.max(0, at - now);
}
