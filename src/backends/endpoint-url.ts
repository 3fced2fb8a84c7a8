// A merchant's or business's endpoint from the environment, read one way for ACP and UCP: an http(s) URL
// without credentials, query or fragment, or one ConfigError line naming the variable.
import { ConfigError, maskCredentials } from '../config/config-error.js';

/** `keyAdvice` says where the credential goes instead (credentials in the URL would reach logs and merchant ids). */
export function endpointUrl(variable: string, text: string, example: string, keyAdvice: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new ConfigError(variable, `"${maskCredentials(text)}" is not a URL`, `Write it like ${example}`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new ConfigError(variable, `must be http or https, not ${url.protocol}`, `Write it like ${example}`);
  }
  if (url.username || url.password || url.search || url.hash) {
    throw new ConfigError(variable, 'must not carry credentials, a query or a fragment', `Give only scheme, host and path; ${keyAdvice}`);
  }
  return url;
}
