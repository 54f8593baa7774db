/**
 * The OpenAPI 3.1 description of the service, served at /api/openapi.json,
 * generated from the TypeBox schemas the code derives its types from: the
 * model (model/schema.ts), the API contract (schema.ts: queries, events,
 * drift report, problems) and the check's answers (check/schema.ts). OpenAPI
 * 3.1 schemas are JSON Schema 2020-12, so they are embedded as they are; every
 * named sub-schema (`$id`) becomes one entry of components/schemas, referenced
 * where it occurs. A server-sent event stream lists the schema of each event's
 * data under the media type's `x-events` (OpenAPI 3.1 has no words for
 * events; 3.2's itemSchema says the same at the cost of older tools).
 */
import { KindGuard, type TObject, type TSchema } from '@sinclair/typebox';
import { DiscoverySchema } from '../model/schema.js';
import * as A from './schema.js';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

const isUndefined = (n: Json): boolean =>
  n !== null && typeof n === 'object' && !Array.isArray(n) && n.type === 'undefined';

/**
 * What TypeBox writes in older or JavaScript-only terms, in JSON Schema
 * 2020-12: a tuple's `items: [...]` (draft 7) is `prefixItems`, and an
 * `undefined` member of a union is dropped (JSON has no undefined: such a
 * key is absent, which the union's object already allows).
 */
function to2020(node: { [key: string]: Json }): { [key: string]: Json } {
  const { items, additionalItems, anyOf, ...rest } = node;
  const out: { [key: string]: Json } = { ...rest };
  if (Array.isArray(items)) {
    out.prefixItems = items;
    if (additionalItems !== undefined) out.items = additionalItems;
  } else {
    if (items !== undefined) out.items = items;
    if (additionalItems !== undefined) out.additionalItems = additionalItems;
  }
  if (Array.isArray(anyOf)) {
    const kept = anyOf.filter((n) => !isUndefined(n));
    const only = kept[0];
    if (kept.length === 1 && only !== null && typeof only === 'object' && !Array.isArray(only))
      Object.assign(out, only);
    else out.anyOf = kept;
  }
  return out;
}

/** Collects named sub-schemas as components, and hands out references to them. */
class Components {
  readonly schemas: Record<string, Json> = {};

  /** The schema as JSON, its named parts (and itself, when named) replaced by references. */
  schema(schema: TSchema): Json {
    // The JSON round trip drops TypeBox's symbol-keyed bookkeeping.
    return this.walk(JSON.parse(JSON.stringify(schema)) as Json);
  }

  private walk(node: Json): Json {
    if (Array.isArray(node)) return node.map((n) => this.walk(n));
    if (node === null || typeof node !== 'object') return node;
    const out: JsonObject = {};
    for (const [k, v] of Object.entries(to2020(node))) {
      if (k === '$id') continue;
      // A bare id (TypeBox's Type.Ref("X")) names a component.
      out[k] =
        k === '$ref' && typeof v === 'string' && !v.startsWith('#')
          ? `#/components/schemas/${v}`
          : this.walk(v);
    }
    const id = node.$id;
    if (typeof id !== 'string') return out;
    const seen = this.schemas[id];
    if (seen !== undefined && JSON.stringify(seen) !== JSON.stringify(out))
      throw new Error(`OpenAPI: two different schemas share the $id "${id}"`);
    this.schemas[id] = out;
    return { $ref: `#/components/schemas/${id}` };
  }

  json(schema: TSchema, description: string): JsonObject {
    return { description, content: { 'application/json': { schema: this.schema(schema) } } };
  }

  problem(description: string): JsonObject {
    return { description, content: { 'application/problem+json': { schema: this.schema(A.ProblemSchema) } } };
  }

  /** An event stream: each event's name and the schema of its data (JSON). */
  events(description: string, events: Record<string, TSchema>): JsonObject {
    const byName: JsonObject = {};
    for (const [name, schema] of Object.entries(events)) byName[name] = this.schema(schema);
    return {
      description,
      content: {
        'text/event-stream': {
          schema: { type: 'string', description: 'server-sent events; the data of each is JSON (x-events)' },
          'x-events': byName,
        },
      },
    };
  }

  /** The query parameters of a query schema (schema.ts), with what the schema says about each. */
  query(schema: TObject): Json[] {
    return Object.entries(schema.properties).map(([name, prop]) => {
      const { description, ...rest } = this.schema(prop) as JsonObject;
      return {
        name,
        in: 'query',
        required: schema.required?.includes(name) ?? false,
        ...(description !== undefined ? { description } : {}),
        // Repeatable: ?nif=eth0&nif=eth1 (form style, exploded: OpenAPI's default for query arrays).
        ...(KindGuard.IsArray(prop) ? { style: 'form', explode: true } : {}),
        schema: rest,
      };
    });
  }

  /** A path parameter (schema.ts: PathParamsSchema). */
  path(name: keyof typeof A.PathParamsSchema.properties): JsonObject {
    const { description, ...rest } = this.schema(A.PathParamsSchema.properties[name]) as JsonObject;
    return {
      name,
      in: 'path',
      required: true,
      ...(description !== undefined ? { description } : {}),
      schema: rest,
    };
  }
}

/** The refusals every API path may answer (middleware.ts), and a failed discovery. */
function gateErrors(c: Components): JsonObject {
  return {
    '401': c.problem(
      'missing or wrong bearer token (when the service runs with a token); `access_token` in the query is taken on /api/events only',
    ),
    '403': c.problem("a request from another site's page (Origin, Sec-Fetch-Site)"),
    '405': c.problem('the service is read-only: only GET and HEAD'),
    '413': c.problem('a request with a body'),
    '421': c.problem('the Host is not a name this service answers to (serve --allow-host)'),
    '500': c.problem('discovery failed'),
  };
}

/** routes/v1.ts, routes/native.ts, routes/verify.ts: answers drawn from a discovery (ETag, 304). */
function discoveryPaths(c: Components, errors: JsonObject): JsonObject {
  const fresh = c.query(A.FreshQuerySchema);
  const unchanged = { '304': { description: 'unchanged (If-None-Match)' } };
  const v1 = (summary: string, what: string) => ({
    get: {
      summary,
      parameters: fresh,
      responses: {
        '200': { description: what, content: { 'application/json': {} } },
        ...unchanged,
        '503': c.problem('the Ghostwire v1 view could not be loaded'),
        ...errors,
      },
    },
  });
  return {
    '/json': v1('Ghostwire-v1 DiscoveryResult', 'Ghostwire v1 DiscoveryResult'),
    '/mobyshark': v1('Ghostwire-v1 capture targets', 'Ghostwire v1 TargetDiscoveryResult'),
    '/api/discovery': {
      get: {
        summary: 'The whole native discovery result',
        parameters: fresh,
        responses: { '200': c.json(DiscoverySchema, 'native discovery'), ...unchanged, ...errors },
      },
    },
    '/api/netns/{ino}': {
      get: {
        summary: 'One network namespace',
        parameters: [c.path('ino'), ...fresh],
        responses: {
          '200': c.json(A.NetworkNamespaceSchema, 'the network namespace'),
          ...unchanged,
          '400': c.problem('not an inode number'),
          '404': c.problem('no such network namespace'),
          ...errors,
        },
      },
    },
    '/api/containers/{id}': {
      get: {
        summary: 'One container',
        parameters: [c.path('id'), ...fresh],
        responses: {
          '200': c.json(A.ContainerSchema, 'the container'),
          ...unchanged,
          '404': c.problem('no such container'),
          ...errors,
        },
      },
    },
    '/api/verify': {
      get: {
        summary: 'Drift of the labs given with `serve --verify FILE`',
        description:
          "`op` is `-` (declared, missing), `+` (present, undeclared, within the lab's namespaces) or `~` " +
          '(declared X, found Y); `netns`/`index` name the kernel interface concerned; `ghosts` the declared ' +
          'interfaces a live namespace lacks. Change events (/api/events) carry a summary.',
        parameters: fresh,
        responses: {
          '200': c.json(A.VerifyReportSchema, 'drift report'),
          ...unchanged,
          '404': c.problem('the service runs without --verify'),
          '503': c.problem('this discovery carries no drift report'),
          ...errors,
        },
      },
    },
  };
}

/** routes/events.ts, routes/capture.ts: streams, bounded per client and in all. */
function streamPaths(c: Components, errors: JsonObject): JsonObject {
  return {
    '/api/events': {
      get: {
        summary: 'Server-sent events: what changed between discoveries',
        description:
          'Event `hello` on every (re)connect; event `change` (with an id, the generation) after each discovery ' +
          'that changed the model or, with `serve --verify`, the drift; `error` when a discovery failed. ' +
          'Reconnect with Last-Event-ID. EventSource cannot send headers: the token may come as `access_token`.',
        responses: {
          '200': c.events('the event stream', {
            hello: A.HelloEventSchema,
            change: A.ChangeEventSchema,
            error: A.StreamErrorSchema,
          }),
          '429': c.problem('this client address has the most event streams one client may (Retry-After)'),
          '503': c.problem('every event stream place is taken (Retry-After)'),
          ...errors,
        },
      },
    },
    '/api/capture.pcapng': {
      get: {
        summary: 'Live packets of the named targets, one pcapng stream',
        description:
          'Captures on the interfaces of every target and streams one pcapng section: an Interface ' +
          'Description Block per interface (NETNS/NAME:IFNAME, nanosecond timestamps), Enhanced Packet Blocks ' +
          'as packets arrive, and Interface Statistics Blocks at the end (kernel drops, drops for a slow ' +
          'reader; a comment when a target went away). Pipe it into `wireshark -k -i -`. Ends after ' +
          '`seconds` or `packets`, or when the client hangs up.',
        parameters: c.query(A.CaptureQuerySchema),
        responses: {
          '200': { description: 'pcapng stream', content: { 'application/x-pcapng': {} } },
          '400': c.problem('malformed parameters or a filter libpcap cannot compile'),
          '404': c.problem('no namespace or interface matches'),
          '429': c.problem('this client address has the most captures one client may (Retry-After)'),
          '503': c.problem('every capture place or capture socket is taken (Retry-After)'),
          ...errors,
          '403': c.problem("a request from another site's page, or the service lacks CAP_NET_RAW"),
        },
      },
    },
  };
}

/** routes/check.ts, routes/packetflix.ts: the checks and Packetflix's paths, websockets among them. */
function checkAndPacketflixPaths(c: Components, errors: JsonObject): JsonObject {
  const websocket = (summary: string, description: string, parameters: Json[]) => ({
    get: {
      summary,
      description,
      parameters,
      responses: {
        '101': { description: 'switching to the websocket' },
        '426': c.problem('a plain HTTP request: this is a websocket'),
        ...errors,
      },
    },
  });
  const capture = websocket(
    "Packetflix's capture websocket",
    'Binary frames of a pcapng stream; the query as Packetflix sends it (netns, nif, filter, chaste, …).',
    [],
  );
  return {
    '/api/check/{target}': {
      get: {
        summary: 'Neighbourhood check: can the target resolve and reach its neighbours?',
        description:
          'From inside its network namespace, the names of its neighbours are resolved with its own resolver ' +
          'and each address is probed (TCP to a known listener, else ICMP echo). With `Accept: text/event-stream`: ' +
          'events `neighbourhood`, then `verdict` each time a (fqdn, address) changes quality, then `done` with ' +
          'the result (or `error`).',
        parameters: [c.path('target'), ...c.query(A.FreshQuerySchema)],
        responses: {
          '200': {
            description: 'the check result, or its event stream',
            content: {
              ...(c.json(A.CheckResultSchema, '').content as JsonObject),
              ...(c.events('', {
                neighbourhood: A.CheckNeighbourhoodEventSchema,
                verdict: A.VerdictSchema,
                done: A.CheckResultSchema,
                error: A.StreamErrorSchema,
              }).content as JsonObject),
            },
          },
          '404': c.problem('no such target'),
          '503': c.problem('as many checks as may run at once are running (Retry-After)'),
          ...errors,
        },
      },
    },
    '/mobydig': websocket(
      "Ghostwire's neighbourhood check websocket",
      'Text frames {fqdn, address, quality, error} as qualities change (unverified, verifying, verified, ' +
        'invalid; an unreachable neighbour is invalid with `verdict: "unreachable"`); close 1000 when done, ' +
        '4400 with the reason for an unknown target.',
      c.query(A.MobydigQuerySchema),
    ),
    '/capture': capture,
    '/discover/capture': capture,
    '/version': {
      get: {
        summary: 'The service and its version (Packetflix)',
        responses: { '200': c.json(A.VersionSchema, 'name and version') },
      },
    },
  };
}

export function openApiDocument(version: string): Record<string, unknown> {
  const c = new Components();
  const errors = gateErrors(c);
  const paths: JsonObject = {
    ...discoveryPaths(c, errors),
    ...streamPaths(c, errors),
    ...checkAndPacketflixPaths(c, errors),
    '/api/schema': {
      get: {
        summary: 'JSON schema of the native discovery',
        responses: { '200': { description: 'JSON schema', content: { 'application/json': {} } }, ...errors },
      },
    },
    '/api/openapi.json': {
      get: {
        summary: 'This document',
        responses: { '200': { description: 'OpenAPI', content: { 'application/json': {} } }, ...errors },
      },
    },
    '/healthz': {
      get: {
        summary: 'Liveness and cache state',
        responses: { '200': c.json(A.HealthSchema, 'ok, the cache, the streams and captures') },
      },
    },
  };
  return {
    openapi: '3.1.0',
    info: {
      title: 'wirescope',
      version,
      description:
        'Read-only discovery service for Linux host virtual networking. `/json` and `/mobyshark` follow the ' +
        'Ghostwire v1 API; `/api/` serves the native model. Results are shared between simultaneous ' +
        'requests and reused until the kernel or an engine reports a change. Packetflix clients may put ' +
        '`/discover` before any path: `/discover/X` answers as `/X`. Every error is a problem document.',
    },
    servers: [{ url: '/' }],
    security: [{}, { bearer: [] }],
    paths,
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } }, schemas: c.schemas },
  };
}
