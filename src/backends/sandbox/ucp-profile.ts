// The sandbox business's UCP profile, served at /.well-known/ucp: the shopping service over REST and MCP, the
// checkout capability with its fulfillment and discount extensions, and the payment handler it accepts.
import { SANDBOX_HANDLER, UCP_VERSION } from './ucp-render.js';

const SPEC = `https://ucp.dev/${UCP_VERSION}/specification`;
const SCHEMAS = `https://ucp.dev/${UCP_VERSION}/schemas/shopping`;

/** Where the UCP side lives below the merchant's base URL. */
export const UCP_REST_PATH = '/ucp';
export const UCP_MCP_PATH = '/ucp/mcp';
export const UCP_PROFILE_PATH = '/.well-known/ucp';

/** `signingKeys`: public JWKs the business signs its order webhooks with (signatures.md), when it sends them. */
export function businessProfile(baseUrl: string, signingKeys: object[] = []): Record<string, unknown> {
  const version = UCP_VERSION;
  const service = (transport: 'rest' | 'mcp', endpoint: string, schema: string) => ({
    version,
    spec: `${SPEC}/overview`,
    transport,
    endpoint,
    schema: `https://ucp.dev/${version}/services/shopping/${schema}`,
  });
  return {
    ucp: {
      version,
      services: {
        'dev.ucp.shopping': [service('rest', `${baseUrl}${UCP_REST_PATH}`, 'rest.openapi.json'), service('mcp', `${baseUrl}${UCP_MCP_PATH}`, 'mcp.openrpc.json')],
      },
      capabilities: {
        'dev.ucp.shopping.checkout': [{ version, spec: `${SPEC}/checkout`, schema: `${SCHEMAS}/checkout.json` }],
        'dev.ucp.shopping.fulfillment': [{ version, spec: `${SPEC}/fulfillment`, schema: `${SCHEMAS}/fulfillment.json`, extends: 'dev.ucp.shopping.checkout' }],
        'dev.ucp.shopping.discount': [{ version, spec: `${SPEC}/discount`, schema: `${SCHEMAS}/discount.json`, extends: 'dev.ucp.shopping.checkout' }],
      },
      payment_handlers: {
        [SANDBOX_HANDLER.name]: [{ id: SANDBOX_HANDLER.id, version, available_instruments: [{ type: 'card' }], config: {} }],
      },
    },
    ...(signingKeys.length > 0 ? { signing_keys: signingKeys } : {}),
  };
}
