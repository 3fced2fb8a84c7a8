// The official UCP 2026-04-08 JSON Schemas (../shared/ucp-spec/source), all loaded so their cross-file $refs
// resolve, with UCP's `ucp_request` / `ucp_response` annotations resolved per direction and operation the way
// the reference tool (ucp-schema) does: "omit" removes the field, "required" adds it to `required`, "optional"
// takes it out of `required`, no annotation leaves it alone.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import type { ValidateFunction } from 'ajv';
import { UCP_SPEC_DIR } from './services.js';

const addFormats = addFormatsModule as unknown as (ajv: InstanceType<typeof Ajv2020>) => void;

export type UcpOperation = 'create' | 'update' | 'complete';
type Direction = 'request' | 'response';

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function visibility(annotation: unknown, operation: UcpOperation | undefined): string | undefined {
  if (typeof annotation === 'string') return annotation;
  if (isObject(annotation) && operation !== undefined) return annotation[operation] as string | undefined;
  return undefined;
}

/** One schema document resolved for a direction (and operation, for requests). */
export function resolveAnnotations(schema: unknown, direction: Direction, operation?: UcpOperation): unknown {
  const keyword = direction === 'request' ? 'ucp_request' : 'ucp_response';
  const walk = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(walk);
    if (!isObject(node)) return node;
    const out: Json = {};
    for (const [key, value] of Object.entries(node)) {
      if (key === 'ucp_request' || key === 'ucp_response') continue;
      out[key] = walk(value);
    }
    if (isObject(node.properties)) {
      const properties: Json = {};
      let required = Array.isArray(node.required) ? [...(node.required as string[])] : undefined;
      for (const [name, property] of Object.entries(node.properties)) {
        const seen = isObject(property) ? visibility(property[keyword], operation) : undefined;
        if (seen === 'omit') {
          required = required?.filter((r) => r !== name);
          continue;
        }
        if (seen === 'required') required = [...new Set([...(required ?? []), name])];
        if (seen === 'optional') required = required?.filter((r) => r !== name);
        properties[name] = walk(property);
      }
      out.properties = properties;
      if (required !== undefined) out.required = required;
    }
    return out;
  };
  return walk(schema);
}

function jsonFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? jsonFiles(path) : name.endsWith('.json') ? [path] : [];
  });
}

/** The profile schema's refs are relative to its file (source/discovery/), not to its $id (…/schemas/discovery/). */
const PROFILE_ID = 'https://ucp.dev/discovery/profile.json';

function loadDocuments(): unknown[] {
  const source = join(UCP_SPEC_DIR, 'source');
  const profile = { ...(JSON.parse(readFileSync(join(source, 'discovery', 'profile_schema.json'), 'utf8')) as Json), $id: PROFILE_ID };
  return [...jsonFiles(join(source, 'schemas')).map((path) => JSON.parse(readFileSync(path, 'utf8')) as unknown), profile];
}

function ajvWith(documents: unknown[]): InstanceType<typeof Ajv2020> {
  // strict off: UCP schemas carry their own keywords (name, ucp_shared_request, embedded…).
  const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: true });
  addFormats(ajv);
  for (const document of documents) ajv.addSchema(document as Json);
  return ajv;
}

const BASE = 'https://ucp.dev/schemas/';
/** The checkout with the extensions the reference merchant offers (fulfillment, discount), composed with allOf. */
const CHECKOUT = {
  allOf: [
    { $ref: `${BASE}shopping/checkout.json` },
    { $ref: `${BASE}shopping/fulfillment.json#/$defs/dev.ucp.shopping.checkout` },
    { $ref: `${BASE}shopping/discount.json#/$defs/dev.ucp.shopping.checkout` },
  ],
};

/** The MCP `meta` argument, as the OpenRPC file defines it (components.schemas.meta). */
function metaSchema(): Json {
  const rpc = JSON.parse(readFileSync(join(UCP_SPEC_DIR, 'source', 'services', 'shopping', 'mcp.openrpc.json'), 'utf8')) as {
    components: { schemas: { meta: Json } };
  };
  return rpc.components.schemas.meta;
}

export interface UcpSchemas {
  /** Problems of a request body (REST body, MCP `checkout` argument) for an operation; empty when valid. */
  request(operation: UcpOperation, body: unknown): string[];
  /** Problems of an answer: a checkout (with extensions) or an error response (REST checkout_response). */
  response(body: unknown): string[];
  /** Problems of a business profile (/.well-known/ucp). */
  businessProfile(body: unknown): string[];
  /** Problems of MCP tool arguments `{meta, id?, checkout?}` against the OpenRPC method. */
  mcpArguments(tool: string, args: unknown): string[];
  /** Problems of a REST request's UCP headers (UCP-Agent, Idempotency-Key and Request-Id as UUIDs). */
  restHeaders(method: string, headers: Record<string, string | undefined>): string[];
}

function problems(validate: ValidateFunction, value: unknown): string[] {
  if (validate(value)) return [];
  return (validate.errors ?? []).slice(0, 8).map((e) => `${e.instancePath || '(root)'} ${e.message ?? ''} ${JSON.stringify(e.params)}`);
}

export function loadUcpSchemas(): UcpSchemas {
  const documents = loadDocuments();
  const requests = new Map<UcpOperation, ValidateFunction>();
  for (const operation of ['create', 'update', 'complete'] as const) {
    const ajv = ajvWith(documents.map((d) => resolveAnnotations(d, 'request', operation)));
    requests.set(operation, ajv.compile(CHECKOUT));
  }
  const responses = ajvWith(documents.map((d) => resolveAnnotations(d, 'response')));
  const response = responses.compile({ oneOf: [CHECKOUT, { $ref: `${BASE}shopping/types/error_response.json` }] });
  const profile = responses.compile({ $ref: `${PROFILE_ID}#/$defs/business_profile` });
  const meta = metaSchema();
  const idempotent = new Set(['complete_checkout', 'cancel_checkout']);
  const argumentSchemas = new Map<string, ValidateFunction>();
  const operationOf: Record<string, UcpOperation | undefined> = {
    create_checkout: 'create',
    update_checkout: 'update',
    complete_checkout: 'complete',
  };
  for (const tool of ['create_checkout', 'get_checkout', 'update_checkout', 'complete_checkout', 'cancel_checkout']) {
    const operation = operationOf[tool];
    const ajv = operation ? ajvWith(documents.map((d) => resolveAnnotations(d, 'request', operation))) : ajvWith(documents);
    const required = ['meta', ...(tool === 'create_checkout' ? [] : ['id']), ...(operation ? ['checkout'] : [])];
    argumentSchemas.set(
      tool,
      ajv.compile({
        type: 'object',
        required,
        properties: {
          meta: idempotent.has(tool) ? { allOf: [meta, { required: ['ucp-agent', 'idempotency-key'] }] } : meta,
          id: { type: 'string' },
          ...(operation ? { checkout: CHECKOUT } : {}),
        },
      }),
    );
  }
  const uuid = responses.compile({ type: 'string', format: 'uuid' });
  return {
    request: (operation, body) => problems(requests.get(operation)!, body),
    response: (body) => problems(response, body),
    businessProfile: (body) => problems(profile, body),
    mcpArguments(tool, args) {
      const validate = argumentSchemas.get(tool);
      return validate ? problems(validate, args) : [`no tool ${tool} in UCP's MCP binding`];
    },
    restHeaders(method, headers) {
      const out: string[] = [];
      const agent = headers['ucp-agent'];
      // RFC 8941 dictionary with a profile string item.
      if (!agent || !/^profile="[^"]+"$/.test(agent)) out.push(`UCP-Agent ${JSON.stringify(agent)} is not profile="<url>"`);
      const requestId = headers['request-id'];
      if (!requestId || !uuid(requestId)) out.push(`Request-Id ${JSON.stringify(requestId)} is not a UUID`);
      if (method !== 'GET') {
        const key = headers['idempotency-key'];
        if (!key || !uuid(key)) out.push(`Idempotency-Key ${JSON.stringify(key)} is not a UUID`);
      }
      return out;
    },
  };
}
