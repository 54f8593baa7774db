/**
 * The hand-written protobuf codec against protobufjs (the reference, loaded
 * from the same messages as proto text in testing/protos.ts): what protobufjs
 * encodes we decode to the object proto-loader gave, and what we encode
 * protobufjs decodes. Then hostile bytes: malformed varints, lengths beyond
 * the buffer, group wire types, unknown enum numbers, "__proto__" map keys.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as cd from './containerd-proto.js';
import * as cri from './cri-proto.js';
import { decode, encode, ProtobufError, type Schema } from './protobuf.js';
import { type MethodDef, serviceMethods } from './testing/grpc-js.js';
import { CONTAINERD_PROTO, CRI_PROTO } from './testing/protos.js';

/** protobufjs's serializers of a method: request out, answer in (and, as a server would, the reverse). */
interface Ref extends MethodDef {
  responseSerialize: (v: unknown) => Buffer;
  requestDeserialize: (b: Buffer) => unknown;
}
const containerd = (service: string, m: string) =>
  serviceMethods(CONTAINERD_PROTO, `wirescope.containerd.${service}`)[m] as Ref;
const runtime = (m: string) => serviceMethods(CRI_PROTO, 'wirescope.cri.RuntimeService')[m] as Ref;

/** Buffers compared by content. */
const plain = (v: unknown): unknown => JSON.parse(JSON.stringify(v));

function sameAsReference(ref: Ref, schema: Schema, answer: unknown): void {
  const bytes = ref.responseSerialize(answer);
  assert.deepEqual(plain(decode(schema, bytes)), plain(ref.responseDeserialize(bytes)));
}

describe('protobuf codec', () => {
  it('decodes containerd answers as proto-loader did', () => {
    sameAsReference(containerd('Namespaces', 'List'), cd.ListNamespacesResponse, {
      namespaces: [{ name: 'default', labels: { a: 'b', 'c.d/e': '' } }, { name: 'k8s.io' }],
    });
    sameAsReference(containerd('Containers', 'List'), cd.ListContainersResponse, {
      containers: [
        {
          id: 'c1',
          labels: { 'nerdctl/name': 'web' },
          image: 'docker.io/library/busybox:latest',
          runtime: { name: 'io.containerd.runc.v2' },
          spec: {
            type_url: 'types.containerd.io/opencontainers/runtime-spec/1/Spec',
            value: Buffer.from('{"a":1}'),
          },
          created_at: { seconds: 1_700_000_000, nanos: 5 },
        },
        { id: 'c2' },
      ],
    });
    sameAsReference(containerd('Tasks', 'List'), cd.ListTasksResponse, {
      tasks: [
        { id: 'c1', pid: 4242, status: 'RUNNING' },
        { container_id: 'x', id: 'c2', pid: 0, status: 'STOPPED', exit_status: 137 },
        { id: 'c3', status: 'UNKNOWN' },
      ],
    });
    sameAsReference(containerd('Version', 'Version'), cd.VersionResponse, {
      version: 'v1.7.0',
      revision: 'abc',
    });
    const ev = containerd('Events', 'Subscribe');
    sameAsReference(ev, cd.Envelope, {
      namespace: 'default',
      topic: '/tasks/start',
      timestamp: { seconds: 5 },
    });
  });

  it('decodes CRI answers as proto-loader did, int64 nanoseconds included', () => {
    sameAsReference(runtime('ListPodSandbox'), cri.ListPodSandboxResponse, {
      items: [
        {
          id: 's1',
          metadata: { name: 'pod', uid: 'u', namespace: 'default', attempt: 1 },
          state: 'SANDBOX_NOTREADY',
          created_at: 1_733_450_000_123_456_800,
          labels: { 'io.kubernetes.pod.name': 'pod' },
        },
      ],
    });
    sameAsReference(runtime('ListContainers'), cri.ListContainersResponse, {
      containers: [
        {
          id: 'c',
          pod_sandbox_id: 's1',
          metadata: { name: 'app' },
          image: { image: 'busybox' },
          state: 'CONTAINER_RUNNING',
          annotations: { x: 'y' },
        },
      ],
    });
    sameAsReference(runtime('ContainerStatus'), cri.ContainerStatusResponse, {
      status: { id: 'c', state: 'CONTAINER_EXITED', started_at: 1_733_450_000_000_000_000 },
      info: { info: '{"pid":12}' },
    });
    sameAsReference(runtime('PodSandboxStatus'), cri.PodSandboxStatusResponse, { status: null, info: {} });
    sameAsReference(runtime('Version'), cri.VersionResponse, { version: '0.1.0', runtime_version: '1.7.0' });
  });

  it('encodes requests protobufjs reads back', () => {
    const sub = containerd('Events', 'Subscribe');
    const filters = ['topic~="/containers/"', 'topic~="/tasks/"'];
    assert.deepEqual(plain(sub.requestDeserialize(Buffer.from(encode(cd.SubscribeRequest, { filters })))), {
      filters,
    });
    const status = runtime('ContainerStatus');
    const req = { container_id: 'abc', verbose: true };
    assert.deepEqual(
      plain(status.requestDeserialize(Buffer.from(encode(cri.ContainerStatusRequest, req)))),
      req,
    );
    assert.deepEqual(encode(cd.Empty, {}), new Uint8Array(0));
    // Our encoding matches protobufjs's byte for byte.
    assert.deepEqual(Buffer.from(encode(cri.ContainerStatusRequest, req)), status.requestSerialize(req));
  });

  it('refuses malformed input with a ProtobufError, never reading past the buffer', () => {
    const bad: [string, number[]][] = [
      ['11-byte varint', [0x08, ...Array(10).fill(0xff), 0x01]],
      ['truncated varint', [0x08, 0x80]],
      ['length beyond the buffer', [0x0a, 0x05, 0x61]],
      ['a 2^32 length', [0x0a, 0x80, 0x80, 0x80, 0x80, 0x10]],
      ['group wire type', [0x0b]],
      ['field number 0', [0x00, 0x01]],
      ['string field as varint', [0x08, 0x01]],
      ['nested message cut short', [0x0a, 0x02, 0x0a, 0x05]],
      ['fixed64 cut short', [0x19, 0x01, 0x02]],
    ];
    for (const [what, bytes] of bad)
      assert.throws(
        () => decode(cd.ListNamespacesResponse, Uint8Array.from(bytes)),
        ProtobufError,
        `${what} accepted`,
      );
  });

  it('keeps unknown enum numbers as strings, skips unknown fields, and keeps "__proto__" map keys as data', () => {
    // tasks[0] = {id: "t", status: 99, field 15 (unknown, varint 7)}
    const task = [0x12, 0x01, 0x74, 0x20, 0x63, 0x78, 0x07];
    const out = decode(cd.ListTasksResponse, Uint8Array.from([0x0a, task.length, ...task]));
    assert.deepEqual(plain(out), {
      tasks: [{ container_id: '', id: 't', pid: 0, status: '99', exit_status: 0, exited_at: null }],
    });
    const entry = [0x0a, 0x09, ...Buffer.from('__proto__'), 0x12, 0x01, 0x78];
    const ns = [0x0a, 0x01, 0x6e, 0x12, entry.length, ...entry];
    const res = decode(cd.ListNamespacesResponse, Uint8Array.from([0x0a, ns.length, ...ns]));
    const labels = (res.namespaces as { labels: Record<string, string> }[])[0]?.labels ?? {};
    assert.equal(Object.getPrototypeOf(labels), Object.prototype);
    assert.deepEqual(Object.keys(labels), ['__proto__']);
  });
});
