/**
 * A hostile containerd (gRPC): one that names thousands of namespaces gets at
 * most MAX_INSPECTS list calls at once, and an answer above 32 MiB is refused
 * with a message that says so. The engine is a gRPC server on a unix socket
 * in this process, serving containerd's real service paths.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { uniquePrefix } from '../testing/names.js';
import { ContainerdClient } from './containerd.js';
import { CONTAINERD_SERVICES } from './containerd-proto.js';
import { serviceMethods } from './testing/grpc-js.js';
import { CONTAINERD_PROTO } from './testing/protos.js';
import { MAX_INSPECTS } from './types.js';

const P = uniquePrefix();

interface ServerDef {
  responseSerialize: (v: unknown) => Buffer;
  requestDeserialize: (b: Buffer) => unknown;
}

function def(service: string, m: string): ServerDef {
  return serviceMethods(CONTAINERD_PROTO, `wirescope.containerd.${service}`)[m] as unknown as ServerDef;
}

/** A containerd that answers `namespaces` as given and counts list calls in flight. */
async function fakeContainerd(
  sock: string,
  namespaces: () => { name: string }[],
): Promise<{ server: grpc.Server; max: () => number }> {
  const server = new grpc.Server();
  let inFlight = 0;
  let max = 0;
  const unaryHandler = (path: string, d: ServerDef, answer: (cb: (v: unknown) => void) => void): void => {
    server.register(
      path,
      (_call: grpc.ServerUnaryCall<unknown, unknown>, cb: grpc.sendUnaryData<unknown>) =>
        answer((v) => cb(null, v)),
      d.responseSerialize,
      d.requestDeserialize,
      'unary',
    );
  };
  unaryHandler(CONTAINERD_SERVICES.version, def('Version', 'Version'), (cb) => cb({ version: 'fake' }));
  unaryHandler(CONTAINERD_SERVICES.namespaces, def('Namespaces', 'List'), (cb) =>
    cb({ namespaces: namespaces() }),
  );
  const slow = (key: 'containers' | 'tasks') => (cb: (v: unknown) => void) => {
    inFlight++;
    max = Math.max(max, inFlight);
    setTimeout(() => {
      inFlight--;
      cb({ [key]: [] });
    }, 5);
  };
  unaryHandler(CONTAINERD_SERVICES.containers, def('Containers', 'List'), slow('containers'));
  unaryHandler(CONTAINERD_SERVICES.tasks, def('Tasks', 'List'), slow('tasks'));
  const ev = def('Events', 'Subscribe');
  server.register(
    CONTAINERD_SERVICES.events,
    (_call: grpc.ServerWritableStream<unknown, unknown>) => {
      // Open and silent, as a quiet engine's event stream is.
    },
    ev.responseSerialize,
    ev.requestDeserialize,
    'serverStream',
  );
  await new Promise<void>((resolve, reject) =>
    server.bindAsync(`unix:${sock}`, grpc.ServerCredentials.createInsecure(), (e) =>
      e ? reject(e) : resolve(),
    ),
  );
  return { server, max: () => max };
}

describe('engines: hostile containerd', () => {
  let dir = '';
  before(() => {
    dir = mkdtempSync(join(tmpdir(), `${P}-`));
  });
  after(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('lists at most MAX_INSPECTS namespaces at once when an engine names 3000', async () => {
    const sock = join(dir, 'many.sock');
    const names = Array.from({ length: 3000 }, (_, i) => ({ name: `ns${i}` }));
    const fake = await fakeContainerd(sock, () => names);
    const client = new ContainerdClient({ api: sock, timeoutMs: 5000 });
    try {
      await client.start();
      // containers and tasks of one namespace are listed together: two calls per namespace.
      assert.ok(
        fake.max() >= 1 && fake.max() <= 2 * MAX_INSPECTS,
        `in flight at most ${2 * MAX_INSPECTS}, saw ${fake.max()}`,
      );
    } finally {
      client.close();
      fake.server.forceShutdown();
    }
  });

  it('refuses an answer above 32 MiB and says so', async () => {
    const sock = join(dir, 'huge.sock');
    const name = 'n'.repeat(1024);
    const huge = Array.from({ length: 40 * 1024 }, () => ({ name }));
    const fake = await fakeContainerd(sock, () => huge);
    const client = new ContainerdClient({ api: sock, timeoutMs: 10000 });
    try {
      await assert.rejects(client.start(), /answer exceeds the 32 MiB cap/);
    } finally {
      client.close();
      fake.server.forceShutdown();
    }
  });
});
