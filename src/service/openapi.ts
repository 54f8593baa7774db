/**
 * The OpenAPI 3.1 description of the service, served at /api/openapi.json.
 * Schemas come from the same TypeBox definitions the code uses (model/schema.ts);
 * OpenAPI 3.1 schemas are JSON Schema 2020-12, so they are embedded as they are.
 */
import * as S from '../model/schema.js';

const json = (ref: string, description: string) => ({
  description,
  content: { 'application/json': { schema: { $ref: `#/components/schemas/${ref}` } } },
});
const problem = (description: string) => ({
  description,
  content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
});
const errors = {
  '401': problem(
    'missing or wrong bearer token (when the service runs with a token); `access_token` in the query is taken on /api/events only',
  ),
  '403': problem("a request from another site's page (Origin, Sec-Fetch-Site)"),
  '405': problem('the service is read-only: only GET and HEAD'),
  '413': problem('a request with a body'),
  '421': problem('the Host is not a name this service answers to (serve --allow-host)'),
  '500': problem('discovery failed'),
};

export function openApiDocument(version: string): Record<string, unknown> {
  return {
    openapi: '3.1.0',
    info: {
      title: 'wirescope',
      version,
      description:
        'Read-only discovery service for Linux host virtual networking. `/json` and `/mobyshark` follow the ' +
        'Ghostwire v1 API; `/api/` serves the native model. Results are shared between simultaneous ' +
        'requests and reused until the kernel or an engine reports a change.',
    },
    servers: [{ url: '/' }],
    security: [{}, { bearer: [] }],
    paths: {
      '/json': {
        get: {
          summary: 'Ghostwire-v1 DiscoveryResult',
          parameters: [{ $ref: '#/components/parameters/fresh' }],
          responses: { '200': { description: 'Ghostwire v1 DiscoveryResult' }, ...errors },
        },
      },
      '/mobyshark': {
        get: {
          summary: 'Ghostwire-v1 capture targets',
          responses: { '200': { description: 'Ghostwire v1 TargetDiscoveryResult' }, ...errors },
        },
      },
      '/api/discovery': {
        get: {
          summary: 'The whole native discovery result',
          parameters: [{ $ref: '#/components/parameters/fresh' }],
          responses: {
            '200': json('Discovery', 'native discovery'),
            '304': { description: 'unchanged' },
            ...errors,
          },
        },
      },
      '/api/netns/{ino}': {
        get: {
          summary: 'One network namespace',
          parameters: [{ name: 'ino', in: 'path', required: true, schema: { type: 'integer' } }],
          responses: {
            '200': json('NetworkNamespace', 'the network namespace'),
            '400': problem('not an inode number'),
            '404': problem('no such network namespace'),
            ...errors,
          },
        },
      },
      '/api/containers/{id}': {
        get: {
          summary: 'One container',
          parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
          responses: {
            '200': json('Container', 'the container'),
            '404': problem('no such container'),
            ...errors,
          },
        },
      },
      '/api/events': {
        get: {
          summary: 'Server-sent events: what changed between discoveries',
          description:
            'Event `hello` on connect ({generation}); event `change` after each discovery that changed ' +
            'something ({generation, startedAt, changes: {namespaces, interfaces, containers} each with ' +
            'added/removed/changed}, and with `serve --verify` a drift summary `drift`: {clean, labs}); `error` when a discovery failed. Reconnect with Last-Event-ID.',
          responses: {
            '200': { description: 'text/event-stream' },
            '429': problem('this client address has the most event streams one client may (Retry-After)'),
            '503': problem('every event stream place is taken (Retry-After)'),
            ...errors,
          },
        },
      },
      '/api/capture.pcapng': {
        get: {
          summary: 'Live packets of the named targets, one pcapng stream',
          description:
            'Captures on the interfaces of every target (as `discover --netns` names them: inode, ' +
            '`host`, process, container, bind mount, group, GROUP/MEMBER) and streams one pcapng ' +
            'section: an Interface Description Block per interface (NETNS/NAME:IFNAME, nanosecond ' +
            'timestamps), Enhanced Packet Blocks as packets arrive, and Interface Statistics Blocks at ' +
            'the end (kernel drops, drops for a slow reader; a comment when a target went away). ' +
            'Pipe it into `wireshark -k -i -`. Ends after `seconds` or `packets`, or when the client ' +
            'hangs up.',
          parameters: [
            {
              name: 'targets',
              in: 'query',
              required: true,
              description: 'a target, repeatable, or a JSON list of targets',
              schema: { type: 'string' },
            },
            {
              name: 'nif',
              in: 'query',
              description: 'interfaces, slash-separated (eth0/eth1), repeatable; default all',
              schema: { type: 'string' },
            },
            {
              name: 'filter',
              in: 'query',
              description: 'pcap-filter expression',
              schema: { type: 'string' },
            },
            { name: 'seconds', in: 'query', schema: { type: 'number', exclusiveMinimum: 0, maximum: 86400 } },
            { name: 'packets', in: 'query', schema: { type: 'integer', minimum: 1 } },
            {
              name: 'chaste',
              in: 'query',
              description: 'present: no promiscuous mode',
              schema: { type: 'string' },
              allowEmptyValue: true,
            },
            { $ref: '#/components/parameters/fresh' },
          ],
          responses: {
            '200': { description: 'pcapng stream', content: { 'application/x-pcapng': {} } },
            '400': problem('malformed parameters or a filter libpcap cannot compile'),
            '404': problem('no namespace or interface matches'),
            '429': problem('this client address has the most captures one client may (Retry-After)'),
            '503': problem('every capture place or capture socket is taken (Retry-After)'),
            ...errors,
            '403': problem("a request from another site's page, or the service lacks CAP_NET_RAW"),
          },
        },
      },
      '/api/check/{target}': {
        get: {
          summary: 'Neighbourhood check: can the target resolve and reach its neighbours?',
          description:
            'target: a container (name, id prefix, GROUP/MEMBER), a netns inode or an `ip netns` name. ' +
            'From inside its network namespace, the names of its neighbours are resolved with its own ' +
            'resolver and each address is probed (TCP to a known listener, else ICMP echo). JSON: ' +
            '{target, neighbours, gateways, notes, verdicts: [{fqdn, address, quality, error?, neighbour?, via?, ' +
            'source?}], ok}; quality is verified, unreachable or invalid. With `Accept: text/event-stream`: ' +
            'events `neighbourhood`, then `verdict` each time a (fqdn, address) changes quality ' +
            '(unverified, verifying, then its verdict), then `done` with the result (or `error`).',
          parameters: [
            { name: 'target', in: 'path', required: true, schema: { type: 'string' } },
            { $ref: '#/components/parameters/fresh' },
          ],
          responses: {
            '200': {
              description: 'check result, or its event stream',
              content: { 'application/json': {}, 'text/event-stream': {} },
            },
            ...errors,
          },
        },
      },
      '/mobydig': {
        get: {
          summary: "Ghostwire's neighbourhood check websocket (`?target=NAME`)",
          description:
            'Websocket only (plain HTTP: 426). Text frames {fqdn, address, quality, error} as qualities ' +
            'change (unverified, verifying, verified, invalid; an unreachable neighbour is invalid with ' +
            '`verdict: "unreachable"`); close 1000 when done, 4400 with the reason for an unknown target.',
          parameters: [{ name: 'target', in: 'query', required: true, schema: { type: 'string' } }],
          responses: { '101': { description: 'switching to the websocket' }, ...errors },
        },
      },
      '/api/verify': {
        get: {
          summary: 'Drift of the labs given with `serve --verify FILE`',
          description:
            'After every discovery each lab file is verified against it (as `wirescope verify FILE` does): ' +
            '{startedAt, clean, labs: [{lab, file, clean, nodes, drift: [{object, op, path?, declared?, ' +
            'found?, message, netns?, index?, node?, ghosts?}], error?}]}. `op` is `-` (declared, missing), ' +
            "`+` (present, undeclared, within the lab's namespaces) or `~` (declared X, found Y). " +
            '`netns`/`index` name the kernel interface concerned; `ghosts` the declared interfaces a live ' +
            'namespace lacks. Change events carry a summary ({clean, labs: [{lab, clean, missing, extra, ' +
            'changed}]}).',
          parameters: [{ $ref: '#/components/parameters/fresh' }],
          responses: {
            '200': { description: 'drift report', content: { 'application/json': {} } },
            '304': { description: 'unchanged' },
            '404': problem('the service runs without --verify'),
            ...errors,
          },
        },
      },
      '/api/schema': {
        get: {
          summary: 'JSON schema of the native discovery',
          responses: { '200': { description: 'JSON schema' } },
        },
      },
      '/api/openapi.json': {
        get: { summary: 'This document', responses: { '200': { description: 'OpenAPI' } } },
      },
      '/healthz': {
        get: { summary: 'Liveness and cache state', responses: { '200': { description: 'ok' } } },
      },
    },
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
      parameters: {
        fresh: {
          name: 'fresh',
          in: 'query',
          required: false,
          description:
            'set to 1 to wait for a discovery that starts after this request (simultaneous ones share it). ' +
            'Without it, a result is reused ' +
            'until a change is noticed (netlink, namespace census, engine events; about once a second), and ' +
            'for up to 2 s after a change while the next discovery runs.',
          schema: { type: 'string', enum: ['1'] },
        },
      },
      schemas: {
        Discovery: S.DiscoverySchema,
        NetworkNamespace: S.NetworkNamespaceSchema,
        Container: S.ContainerSchema,
        Problem: {
          type: 'object',
          description: 'RFC 9457 problem document',
          required: ['type', 'title', 'status'],
          properties: {
            type: { type: 'string' },
            title: { type: 'string' },
            status: { type: 'integer' },
            detail: { type: 'string' },
            instance: { type: 'string' },
          },
        },
      },
    },
  };
}
