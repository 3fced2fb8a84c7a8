// ACP_WEBHOOK_SECRET: the secret each merchant signs its order events with. A plain value is the secret of the
// merchant this server serves; `@/path/file` lists `merchant=secret` lines (blank lines and `#` comments
// allowed) for several merchants, or two secrets of one merchant while it rotates. A merchant is named as the
// ledger names it (`doctor` prints it: `acp:https://shop.example/api`, `sandbox`) or by its ACP base URL.
// An event belongs to the merchant whose secret verifies its signature. Secrets never appear in an error.
import { merchantIdentity } from '../backends/acp/acp-config.js';
import { ConfigError } from '../config/config-error.js';
import { readSettingFile } from '../config/config-file.js';
import type { WebhookSecret } from './acp-signature.js';

export const VARIABLE = 'ACP_WEBHOOK_SECRET';
/** Shorter secrets can be guessed offline from one signed event. */
const MIN_SECRET_LENGTH = 16;

/** `https://shop.example/api/` → `acp:https://shop.example/api`; an identity as the ledger writes it stays. */
export function normaliseMerchant(name: string): string | undefined {
  const text = name.trim();
  if (text === '' || text.includes('=') || /\s/.test(text)) return undefined;
  if (/^https?:\/\//i.test(text)) {
    try {
      return `acp:${merchantIdentity(new URL(text))}`;
    } catch {
      return undefined;
    }
  }
  return text;
}

/** Undefined when unset: the receiver is off. `served` is the merchant of this server's backend. */
export function parseWebhookSecrets(value: string | undefined, served: string): WebhookSecret[] | undefined {
  const text = value?.trim();
  if (!text) return undefined;
  if (!served.startsWith('acp:') && served !== 'sandbox') {
    throw new ConfigError(VARIABLE, `is for ACP merchants' order events, and this server's merchant is ${served}`, 'Unset it, or serve an ACP merchant (ONCE_BACKEND=acp)');
  }
  if (!text.startsWith('@')) {
    checkSecret(text, 'the value');
    return [{ merchant: served, secret: text }];
  }
  const path = text.slice(1);
  const lines = readSettingFile(VARIABLE, path, 'secrets file', 'Point @ at a readable file with one merchant=secret line per merchant');
  const secrets: WebhookSecret[] = [];
  lines.forEach((raw, index) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const where = `line ${index + 1} of ${path}`;
    // Split at the first '=': merchant names never contain one, secrets (base64) may.
    const at = line.indexOf('=');
    const merchant = at < 0 ? undefined : normaliseMerchant(line.slice(0, at));
    const secret = at < 0 ? '' : line.slice(at + 1).trim();
    if (!merchant || !secret) {
      throw new ConfigError(VARIABLE, `${where} is not merchant=secret`, 'Write one line per secret, e.g. acp:https://shop.example/api=whsec_… (the merchant as `once-checkout doctor` names it, or its ACP base URL)');
    }
    checkSecret(secret, `the secret in ${where}`);
    if (secrets.some((s) => s.secret === secret)) throw new ConfigError(VARIABLE, `the secret in ${where} is listed twice`, 'Give each merchant its own secret');
    secrets.push({ merchant, secret });
  });
  if (secrets.length === 0) throw new ConfigError(VARIABLE, `${path} lists no secrets`, 'Add a merchant=secret line');
  if (!secrets.some((s) => s.merchant === served)) {
    throw new ConfigError(VARIABLE, `${path} has no secret for ${served}, the merchant this server serves`, `Add a line ${served}=<the secret it signs with>`);
  }
  return secrets;
}

function checkSecret(secret: string, what: string): void {
  if (secret.length < MIN_SECRET_LENGTH || /\s/.test(secret)) {
    throw new ConfigError(VARIABLE, `${what} is too short or has spaces`, `Use the secret the merchant gave you (at least ${MIN_SECRET_LENGTH} characters, no spaces)`);
  }
}
