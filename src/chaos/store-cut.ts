// A TCP relay in front of the ledger's PostgreSQL: cutting it drops every connection and refuses new ones for a
// while, which is what a store restart looks like from the servers (their pools reconnect afterwards).
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';

export interface StoreCut {
  /** The store URL the servers should use: the same database, through the relay. */
  url: string;
  /** Drops every connection (before it returns its promise) and refuses new ones for `ms`. */
  outage(ms: number): Promise<void>;
  outages: number;
  close(): Promise<void>;
}

export async function startStoreCut(storeUrl: string): Promise<StoreCut> {
  const target = new URL(storeUrl);
  const pairs = new Set<Socket>();
  // Outages may overlap (a periodic one during a long one): the relay is up again when the last one ends.
  let down = 0;
  const server = createServer((client) => {
    if (down > 0) {
      client.destroy();
      return;
    }
    const upstream = connect({ host: target.hostname, port: Number(target.port || 5432) });
    for (const socket of [client, upstream]) {
      pairs.add(socket);
      socket.once('close', () => pairs.delete(socket));
      socket.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const relayed = new URL(storeUrl);
  relayed.hostname = '127.0.0.1';
  relayed.port = String((server.address() as AddressInfo).port);
  const cut: StoreCut = {
    url: relayed.toString(),
    outages: 0,
    async outage(ms) {
      cut.outages += 1;
      // Everything up to the first await runs at once: the caller's next step already meets a cut store.
      down += 1;
      for (const socket of pairs) socket.destroy();
      await new Promise((resolve) => setTimeout(resolve, ms));
      down -= 1;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of pairs) socket.destroy();
        server.close(() => resolve());
      }),
  };
  return cut;
}
