// Every backend ONCE_BACKEND may name: the one list, from which the type is derived. Its own module with no
// imports, so config/ can check ONCE_BACKEND without loading anything of the backends.
export const BACKEND_NAMES = ['sandbox', 'acp', 'ucp', 'stripe', 'paypal'] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];
