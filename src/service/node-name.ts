/**
 * Node names (serve --node-name, the names a hub groups its agents by). A
 * node name travels into URLs (`/json?node=NAME`), SSE frames and the web UI,
 * and a hub reads it from agents it does not trust: the accepted set is a
 * Kubernetes node name's (RFC 1123 subdomain, 253 bytes) widened by upper
 * case and `_` (host names in the wild), nothing that needs escaping. Pure.
 */
const NODE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,252}$/;

export const isNodeName = (s: string): boolean => NODE_NAME.test(s);
