/** The native model's types, shared with the service (src/model): one definition for both sides. */
export type {
  Container,
  Discovery,
  Dns,
  Interface,
  InterfaceRef,
  Namespace,
  NetworkNamespace,
  Process,
  Route,
  Rule,
} from '../../src/model/types.js';

import type { Socket } from '../../src/model/types.js';
export type SocketOwner = Socket['owners'][number];
