/**
 * The HTTP API's contract beyond the native model, as TypeBox schemas: the
 * query parameters the handlers validate (routes/query.ts), the payloads of
 * `/api/events`, the drift report of `/api/verify`, problem documents and the
 * small answers. contract.ts derives the TypeScript types from them (for the
 * service and, type-only, the web UI) and openapi.ts publishes them, so the
 * OpenAPI document says what the code sends.
 *
 * The payloads are closed (`additionalProperties: false`): the contract lists
 * every field, and the OpenAPI test validates real answers against it.
 */
import { type TProperties, type TSchema, Type } from '@sinclair/typebox';
import { CheckResultSchema, NeighbourhoodSchema, VerdictSchema } from '../check/schema.js';
import { ContainerSchema, DriftSchema, NetworkNamespaceSchema } from '../model/schema.js';

export {
  CheckResultSchema,
  ContainerSchema,
  DriftSchema,
  NeighbourhoodSchema,
  NetworkNamespaceSchema,
  VerdictSchema,
};

const Opt = <T extends TSchema>(t: T) => Type.Optional(t);
const Closed = <T extends TProperties>(properties: T, options: { $id?: string; description?: string } = {}) =>
  Type.Object(properties, { additionalProperties: false, ...options });

/** RFC 9457: every error the service answers (problem.ts); extension members are allowed. */
export const ProblemSchema = Type.Object(
  {
    type: Type.String({ description: 'the problem type: https://wirescope.invalid/problems/SLUG' }),
    title: Type.String(),
    status: Type.Integer(),
    detail: Opt(Type.String()),
    instance: Opt(Type.String()),
  },
  { $id: 'Problem', description: 'RFC 9457 problem document' },
);

// ---- /api/verify ----------------------------------------------------------------

/** A declared interface absent from a live namespace. */
export const GhostSchema = Closed(
  { netns: Type.Integer(), name: Type.String(), kind: Type.String(), node: Type.String() },
  { $id: 'Ghost', description: 'a declared interface absent from a live namespace' },
);

/** A difference as /api/verify serves it: with the ghosts the wiring view draws for it. */
export const ServiceDriftSchema = Type.Object(
  { ...DriftSchema.properties, ghosts: Opt(Type.Array(GhostSchema)) },
  { $id: 'ServiceDrift', additionalProperties: false },
);

export const LabReportSchema = Closed(
  {
    lab: Type.String(),
    file: Type.String(),
    clean: Type.Boolean(),
    drift: Type.Array(ServiceDriftSchema),
    nodes: Type.Record(Type.String(), Type.Union([Type.Integer(), Type.Undefined()]), {
      description: 'network namespace inode per node (absent: not running)',
    }),
    error: Opt(
      Type.String({
        description: 'why the lab could not be verified this time (the drift is then empty and clean false)',
      }),
    ),
  },
  { $id: 'LabReport' },
);

/** GET /api/verify. */
export const VerifyReportSchema = Closed(
  {
    startedAt: Type.String({ description: 'the discovery this report belongs to (its startedAt)' }),
    clean: Type.Boolean(),
    labs: Type.Array(LabReportSchema),
    error: Opt(Type.String({ description: 'the lab files could not be loaded (the drift is then unknown)' })),
  },
  {
    $id: 'VerifyReport',
    description:
      'After every discovery each lab file given with `serve --verify` is verified against it (as `wirescope verify FILE` does).',
  },
);

// ---- /api/events ----------------------------------------------------------------

/** What a change event carries: counts only, the UI fetches /api/verify for the details. */
export const DriftSummarySchema = Closed(
  {
    clean: Type.Boolean(),
    error: Opt(Type.String()),
    labs: Type.Array(
      Closed({
        lab: Type.String(),
        clean: Type.Boolean(),
        missing: Type.Integer(),
        extra: Type.Integer(),
        changed: Type.Integer(),
        error: Opt(Type.String()),
      }),
    ),
  },
  {
    $id: 'DriftSummary',
    description: 'the lab drift after a discovery, counts only (details at /api/verify)',
  },
);

/** An interface by stable identity (netns inode, ifindex) and its name. */
export const InterfaceChangeSchema = Closed(
  { netns: Type.Integer(), index: Type.Integer(), name: Type.String() },
  { $id: 'InterfaceChange' },
);

const addedRemovedChanged = <T extends TSchema>(item: T) =>
  Closed({ added: Type.Array(item), removed: Type.Array(item), changed: Type.Array(item) });

/** What changed between two discoveries (src/service/diff.ts). */
export const ChangeSetSchema = Closed(
  {
    namespaces: addedRemovedChanged(Type.Integer({ description: 'network namespace inode' })),
    interfaces: addedRemovedChanged(InterfaceChangeSchema),
    containers: addedRemovedChanged(Type.String({ description: 'container key' })),
  },
  { $id: 'ChangeSet' },
);

/** Event `hello`: sent on every (re)connect, so a client can tell it missed a generation. */
export const HelloEventSchema = Closed({ generation: Type.Integer() }, { $id: 'HelloEvent' });

const pointer = Type.String({ description: 'RFC 6901 JSON pointer into the document' });

/** One operation of an RFC 6902 JSON Patch; src/model/patch.ts makes and applies them (add, remove, replace only). */
export const PatchOpSchema = Type.Union(
  [
    Closed({ op: Type.Literal('add'), path: pointer, value: Type.Unknown() }),
    Closed({ op: Type.Literal('remove'), path: pointer }),
    Closed({ op: Type.Literal('replace'), path: pointer, value: Type.Unknown() }),
  ],
  { $id: 'PatchOp', description: 'an RFC 6902 JSON Patch operation (only add, remove and replace are sent)' },
);

/** Event `change`: after each discovery that changed the model or the drift. */
export const ChangeEventSchema = Closed(
  {
    generation: Type.Integer(),
    startedAt: Type.String({ description: "the discovery's startedAt" }),
    changes: ChangeSetSchema,
    census: Opt(
      Type.Boolean({
        description:
          'true: network namespaces the census saw come and go (`changes.namespaces.added`/`removed` only), ' +
          'in order, as the kernel reports them: before a discovery shows them, and also those no discovery ' +
          'shows (added and removed between two, an inode reused). The document is unchanged (no patch); the ' +
          "event of the discovery that shows them follows and lists them again. Events without it follow the document's generations.",
      }),
    ),
    drift: Opt(DriftSummarySchema),
    base: Opt(
      Type.Integer({
        description:
          'the generation `patch` applies to: the previous change event (or the hello) of this stream. ' +
          'Present with `patch` only.',
      }),
    ),
    patch: Opt(
      Type.Array(PatchOpSchema, {
        description:
          'RFC 6902 JSON Patch from the `/api/discovery` document of generation `base` to that of `generation`. ' +
          'Absent when the service cannot say (the stream started meanwhile, the discovery worker restarted) or ' +
          'when it would be too large (the document itself or 256 KiB): then, or when the copy is not of ' +
          'generation `base`, fetch `/api/discovery` again.',
      }),
    ),
  },
  { $id: 'ChangeEvent' },
);

/** Event `error` of a stream: a discovery (or a check) failed. */
export const StreamErrorSchema = Closed({ message: Type.String() }, { $id: 'StreamError' });

/** /api/check/:target, event `neighbourhood`: the neighbourhood, and how many names will be tried. */
export const CheckNeighbourhoodEventSchema = Type.Object(
  { ...NeighbourhoodSchema.properties, names: Type.Integer({ description: 'how many names will be tried' }) },
  { $id: 'CheckNeighbourhoodEvent' },
);

// ---- the small answers ------------------------------------------------------------

/** Packetflix's `/version`. */
export const VersionSchema = Closed(
  { name: Type.Literal('wirescope'), version: Type.String() },
  { $id: 'Version' },
);

/** /healthz: the cache and the limits; `serve` adds facts of its own (e.g. watched namespaces). */
export const HealthSchema = Type.Object(
  {
    status: Type.Literal('ok'),
    version: Type.String(),
    generation: Type.Integer(),
    discoveries: Type.Integer(),
    /**
     * A discovery has completed: /json and /api/* answer at once. false while the first one runs
     * after the start (the service listens before it; those answers then wait for it).
     */
    ready: Type.Boolean(),
    stale: Type.Boolean(),
    lastError: Type.Union([Type.String(), Type.Null()]),
    streams: Closed({
      open: Type.Integer(),
      max: Type.Integer(),
      maxPerClient: Type.Integer(),
      refused: Type.Integer(),
      dropped: Type.Integer(),
      maxBacklogBytes: Type.Integer(),
      peakBacklogBytes: Type.Integer(),
    }),
    captures: Type.Record(Type.String(), Type.Number()),
    watchedNamespaces: Type.Optional(Type.Integer()),
    /** The node this service describes (serve --node-name, default the host name): a hub's agents name themselves by it. */
    node: Type.Optional(Type.String()),
    /** The change watcher's census and which of its event sources are live (src/watch/watcher.ts). */
    watch: Type.Optional(
      Closed({
        census: Type.Union([Type.Literal('events'), Type.Literal('poll')]),
        fullWalkMs: Type.Integer(),
        fullWalks: Type.Integer(),
        sources: Closed({
          procConnector: Closed({
            live: Type.Boolean(),
            detail: Type.Optional(Type.String()),
            events: Type.Integer(),
            overflows: Type.Integer(),
          }),
          mountinfo: Closed({ live: Type.Boolean(), files: Type.Integer() }),
          rtnetlink: Closed({ live: Type.Boolean(), namespaces: Type.Integer(), overflows: Type.Integer() }),
          engines: Closed({ live: Type.Boolean(), sources: Type.Integer() }),
        }),
      }),
    ),
  },
  { $id: 'Health' },
);

// ---- query parameters ---------------------------------------------------------------
// As they arrive: strings, arrays for repeatable ones. routes/query.ts validates against these.

const fresh = Opt(
  Type.String({
    description:
      'set to 1 to wait for a discovery that starts after this request (simultaneous ones share it). Without it, a ' +
      'result is reused until a change is noticed (netlink, namespace census, engine events; about once a second), ' +
      'and for up to 2 s after a change while the next discovery runs. Other values are ignored.',
    examples: ['1'],
  }),
);

/** The queries of the answers drawn from a discovery (/json, /api/discovery, /api/verify, …). */
export const FreshQuerySchema = Type.Object({ fresh });

/** /api/capture.pcapng: capture.ts parses the values (lists, numbers, limits). */
export const CaptureQuerySchema = Type.Object({
  // Required; an empty list is capture.ts's to refuse, with its own words.
  targets: Type.Array(Type.String(), {
    description:
      'a target as `discover --netns` names it (inode, `host`, process, container, bind mount, group, GROUP/MEMBER), ' +
      'repeatable, or a JSON list of targets',
  }),
  nif: Opt(
    Type.Array(Type.String(), {
      description: 'interfaces, slash-separated (eth0/eth1), repeatable; default all',
    }),
  ),
  filter: Opt(Type.String({ description: 'pcap-filter expression' })),
  seconds: Opt(Type.String({ description: 'stop after this many seconds (0 < seconds ≤ 86400)' })),
  packets: Opt(Type.String({ description: 'stop after this many packets (a whole number ≥ 1)' })),
  chaste: Opt(Type.String({ description: 'present: no promiscuous mode (`false` or `0`: promiscuous)' })),
  fresh,
});

/** /mobydig (a websocket; plain HTTP is refused). */
export const MobydigQuerySchema = Type.Object({
  target: Type.String({
    description: 'a container (name, id prefix, GROUP/MEMBER), netns inode or `ip netns` name',
  }),
});

/** The path parameters (`/api/netns/{ino}`, `/api/containers/{id}`, `/api/check/{target}`). */
export const PathParamsSchema = Type.Object({
  ino: Type.String({ pattern: '^[0-9]+$', description: 'the nsfs inode of a network namespace' }),
  id: Type.String({ description: 'a container key, name, or id prefix of at least 6 characters' }),
  target: Type.String({
    description: 'a container (name, id prefix, GROUP/MEMBER), a netns inode or an `ip netns` name',
  }),
});
