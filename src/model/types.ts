/**
 * TypeScript types of the native model, derived from the schemas in schema.ts.
 * Stages hand these to each other read-only: a discovery result is immutable.
 */
import type { Static } from '@sinclair/typebox';
import type * as S from './schema.js';

export type DeepReadonly<T> = T extends (infer U)[]
  ? readonly DeepReadonly<U>[]
  : T extends object
    ? { readonly [K in keyof T]: DeepReadonly<T[K]> }
    : T;

/** Mutable forms, for the stage that builds an object. */
export namespace Draft {
  export type Namespace = Static<typeof S.NamespaceSchema>;
  export type Process = Static<typeof S.ProcessSchema>;
  export type Tenant = Static<typeof S.TenantSchema>;
  export type Dns = Static<typeof S.DnsSchema>;
  export type Interface = Static<typeof S.InterfaceSchema>;
  export type Address = Static<typeof S.AddressSchema>;
  export type Route = Static<typeof S.RouteSchema>;
  export type Rule = Static<typeof S.RuleSchema>;
  export type Neighbour = Static<typeof S.NeighbourSchema>;
  export type Socket = Static<typeof S.SocketSchema>;
  export type ForwardedPort = Static<typeof S.ForwardedPortSchema>;
  export type NetworkNamespace = Static<typeof S.NetworkNamespaceSchema>;
  export type Container = Static<typeof S.ContainerSchema>;
  export type Engine = Static<typeof S.EngineSchema>;
  export type Group = Static<typeof S.GroupSchema>;
  export type Warning = Static<typeof S.WarningSchema>;
  export type Host = Static<typeof S.HostSchema>;
  export type Discovery = Static<typeof S.DiscoverySchema>;
}

export type NamespaceType = (typeof S.NamespaceTypes)[number];
export type ProcessRef = DeepReadonly<Static<typeof S.ProcessRefSchema>>;
export type InterfaceRef = DeepReadonly<Static<typeof S.InterfaceRefSchema>>;
export type Namespace = DeepReadonly<Draft.Namespace>;
export type Process = DeepReadonly<Draft.Process>;
export type Tenant = DeepReadonly<Draft.Tenant>;
export type Dns = DeepReadonly<Draft.Dns>;
export type Interface = DeepReadonly<Draft.Interface>;
export type Address = DeepReadonly<Draft.Address>;
export type Route = DeepReadonly<Draft.Route>;
export type Rule = DeepReadonly<Draft.Rule>;
export type Neighbour = DeepReadonly<Draft.Neighbour>;
export type Socket = DeepReadonly<Draft.Socket>;
export type ForwardedPort = DeepReadonly<Draft.ForwardedPort>;
export type NetworkNamespace = DeepReadonly<Draft.NetworkNamespace>;
export type Container = DeepReadonly<Draft.Container>;
export type Engine = DeepReadonly<Draft.Engine>;
export type Group = DeepReadonly<Draft.Group>;
export type Warning = DeepReadonly<Draft.Warning>;
export type Host = DeepReadonly<Draft.Host>;
export type Discovery = DeepReadonly<Draft.Discovery>;
