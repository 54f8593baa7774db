/**
 * The neighbourhood check's answers (`/api/check/:target`, `wirescope check
 * --json`) as TypeBox schemas: types.ts derives its types from them and the
 * service's OpenAPI document (service/openapi.ts) serves them, so the
 * description cannot drift from what the code builds.
 */
import { type TSchema, Type } from '@sinclair/typebox';

const Opt = <T extends TSchema>(t: T) => Type.Optional(t);

/** Ghostwire's `/mobydig` qualities, plus `unreachable` (resolves to a neighbour that does not answer). */
export const QualitySchema = Type.Union(
  [
    Type.Literal('unverified'),
    Type.Literal('verifying'),
    Type.Literal('verified'),
    Type.Literal('invalid'),
    Type.Literal('unreachable'),
  ],
  { $id: 'Quality' },
);

/** How a neighbour shares an L2 segment with the start namespace. */
export const SegmentSchema = Type.Object(
  {
    key: Type.String({
      description:
        'stable key: `bridge:<netns>:<ifindex>`, `veth:<netns>:<ifindex>`, `macvlan:<netns>:<ifindex>`',
    }),
    network: Opt(Type.String({ description: 'engine network name when a decorator named the segment' })),
    device: Type.String({
      description: "the device that makes the segment: the bridge, the parent of macvlans, the start's veth",
    }),
    noDns: Type.Boolean({
      description: "names on this segment are served by no resolver we know of (Docker's default bridge)",
    }),
    noDnsWhy: Opt(
      Type.Union([Type.Literal('default'), Type.Literal('disabled'), Type.Literal('unnamed')], {
        description:
          "why no resolver: the engine's default network, DNS disabled on it, or no engine network at all",
      }),
    ),
    isDefault: Opt(Type.Boolean({ description: "the engine's default network" })),
  },
  { $id: 'Segment' },
);

/** A network namespace on one of the start namespace's segments. */
export const NeighbourSchema = Type.Object(
  {
    netns: Type.Integer(),
    container: Opt(Type.String({ description: 'container key, when a container or lab node lives there' })),
    label: Type.String({ description: 'what to call it in output: container name, or `netns <ino>`' }),
    segments: Type.Array(SegmentSchema),
    addresses: Type.Array(Type.String(), {
      description: "global-scope addresses of the neighbour's interfaces on the shared segments",
    }),
    tcpPorts: Type.Object(
      { inet: Type.Array(Type.Integer()), inet6: Type.Array(Type.Integer()) },
      { description: 'TCP ports the neighbour listens on, per address family' },
    ),
  },
  { $id: 'CheckNeighbour' },
);

/** One update: the same (fqdn, address) pair is sent again as its quality changes. */
export const VerdictSchema = Type.Object(
  {
    fqdn: Type.String({ description: "the name tried; for address-only checks, the neighbour's label" }),
    address: Type.String({
      description: 'empty while the name is being resolved or when it did not resolve',
    }),
    quality: QualitySchema,
    error: Opt(Type.String()),
    neighbour: Opt(
      Type.Integer({
        description:
          'neighbour netns the address belongs to; for a name that did not resolve, the neighbour it names',
      }),
    ),
    via: Opt(Type.String({ description: 'how it was verified: `tcp/PORT` or `icmp`' })),
    source: Opt(Type.String()),
  },
  { $id: 'Verdict' },
);

const neighbourhood = {
  target: Type.Object({ netns: Type.Integer(), label: Type.String(), container: Opt(Type.String()) }),
  neighbours: Type.Array(NeighbourSchema),
  gateways: Type.Array(Type.Object({ address: Type.String(), netns: Type.Integer() }), {
    description:
      'addresses of the bridges the start namespace hangs off (the gateway): no neighbour, but a name may point there',
  }),
  notes: Type.Array(Type.String(), { description: 'facts the user should know, e.g. a segment without DNS' }),
};

/** The start namespace and its neighbourhood, before any packet is sent. */
export const NeighbourhoodSchema = Type.Object(neighbourhood, { $id: 'Neighbourhood' });

export const CheckResultSchema = Type.Object(
  {
    ...neighbourhood,
    verdicts: Type.Array(VerdictSchema),
    ok: Type.Boolean({ description: 'every verdict is `verified`' }),
  },
  { $id: 'CheckResult' },
);
