/**
 * Tests' gRPC plumbing (@grpc/grpc-js, proto-loader: the reference the own
 * client and codec are checked against, and CRI's test-only calls):
 * proto-loader reads files, so the proto text goes through a temp file once;
 * calls use the serializers of the loaded definitions with the real service
 * paths (the protos use their own package names).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { MAX_ANSWER_BYTES } from '../http.js';

export interface MethodDef {
  requestSerialize: (v: unknown) => Buffer;
  responseDeserialize: (b: Buffer) => unknown;
}

const loaded = new Map<string, protoLoader.PackageDefinition>();

/** The method definitions of `service` (fully qualified, e.g. "wirescope.cri.RuntimeService"). */
export function serviceMethods(protoText: string, service: string): Record<string, MethodDef> {
  let def = loaded.get(protoText);
  if (!def) {
    const dir = mkdtempSync(join(tmpdir(), 'wirescope-proto-'));
    try {
      const file = join(dir, 'api.proto');
      writeFileSync(file, protoText);
      def = protoLoader.loadSync(file, { keepCase: true, longs: Number, enums: String, defaults: true });
      loaded.set(protoText, def);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const s = def[service] as unknown as Record<string, MethodDef> | undefined;
  if (!s) throw new Error(`proto: service ${service} missing`);
  return s;
}

export function method(methods: Record<string, MethodDef>, name: string): MethodDef {
  const m = methods[name];
  if (!m) throw new Error(`proto: method ${name} missing`);
  return m;
}

/** A client on a unix socket that shares no connection with other clients. */
export function unixClient(api: string): grpc.Client {
  return new grpc.Client(`unix:${api}`, grpc.credentials.createInsecure(), {
    // No reconnect storm against a dead engine: the tracker re-syncs instead.
    'grpc.initial_reconnect_backoff_ms': 1000,
    // A hostile engine's answer is capped like the HTTP engines' (http.ts).
    'grpc.max_receive_message_length': MAX_ANSWER_BYTES,
    // grpc-js shares connections between clients of one target by default; a
    // fresh client must see the socket as it is now (gone, replaced), not an old connection.
    'grpc.use_local_subchannel_pool': 1,
  });
}

export function unary<T>(
  client: grpc.Client,
  path: string,
  def: MethodDef,
  req: unknown,
  timeoutMs: number,
  metadata = new grpc.Metadata(),
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    client.makeUnaryRequest(
      path,
      def.requestSerialize,
      def.responseDeserialize,
      req,
      metadata,
      { deadline: Date.now() + timeoutMs },
      (err, res) => (err ? reject(new Error(grpcMessage(err))) : resolve(res as T)),
    );
  });
}

/** grpc-js details carry a trailing resolver note; keep the cause. */
export function grpcMessage(e: grpc.ServiceError): string {
  const text = e.details || e.message;
  if (e.code === grpc.status.RESOURCE_EXHAUSTED && /larger than max/i.test(text))
    return `answer exceeds the ${MAX_ANSWER_BYTES / 1024 / 1024} MiB cap (${text})`;
  const cause = /Last error: (?:Error: )?(.*?)(?:\. Resolution note:.*)?$/.exec(text);
  return cause?.[1] ? `not connected: ${cause[1]}` : text;
}
