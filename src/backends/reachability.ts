// A start-up probe: a provider base URL that no one answers on is a configuration mistake worth one clear line
// before an agent tries to buy, not a first purchase that ends `unknown`.
import { connect } from 'node:net';
import { ConfigError } from '../config/config-error.js';

export async function assertReachable(variable: string, base: string, timeoutMs = 3_000): Promise<void> {
  const url = new URL(base);
  const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
  const problem = await new Promise<string | undefined>((resolve) => {
    const socket = connect({ host: url.hostname, port, timeout: timeoutMs });
    socket.once('connect', () => {
      socket.destroy();
      resolve(undefined);
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve(`no answer within ${timeoutMs} ms`);
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
  });
  if (problem !== undefined) {
    throw new ConfigError(variable, `${url.origin} cannot be reached (${problem})`, `Check ${variable} and the network, then start again`);
  }
}
