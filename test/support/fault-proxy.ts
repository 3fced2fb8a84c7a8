// The fault-injecting proxy lives in src/chaos (a future `chaos` command will use it); tests import it here.
export { PROXY_FAULTS, startFaultProxy, tokenFingerprint } from '../../src/chaos/fault-proxy.js';
export type { FaultProxy, FaultProxyOptions, ProxyCounts, ProxyEntry, ProxyFault, ProxyRule } from '../../src/chaos/fault-proxy.js';
