/**
 * The own gRPC client (grpc.ts) against a raw HTTP/2 server on a unix socket
 * that answers what a hostile or broken engine might: a compressed message we
 * never offered to accept, a declared length above the cap (refused before it
 * is buffered), two messages for a unary call, a status without a message, a
 * status with a hostile grpc-message, bytes that are no protobuf, an answer
 * that never comes, and a stream cut short. Each call fails with one clear
 * line; nothing hangs past its deadline.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import http2 from 'node:http2';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { uniquePrefix } from '../testing/names.js';
import * as pb from './containerd-proto.js';
import { FrameReader, GrpcClient } from './grpc.js';
import { encode } from './protobuf.js';

const P = uniquePrefix();

function frame(msg: Uint8Array, flag = 0, declared = msg.length): Buffer {
  const head = Buffer.alloc(5);
  head[0] = flag;
  head.writeUInt32BE(declared, 1);
  return Buffer.concat([head, msg]);
}

const version = encode(pb.VersionResponse, { version: '1.7.0', revision: 'r' });

/** What the server does for each path. */
const behaviours: Record<string, (s: http2.ServerHttp2Stream) => void> = {
  '/ok': (s) => {
    s.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
    s.on('wantTrailers', () => s.sendTrailers({ 'grpc-status': '0' }));
    s.end(frame(version));
  },
  '/compressed': (s) => {
    s.respond({ ':status': 200, 'content-type': 'application/grpc' });
    s.end(frame(version, 1));
  },
  '/huge': (s) => {
    s.respond({ ':status': 200, 'content-type': 'application/grpc' });
    // Declares 4 GiB - 1 and sends a few bytes: the client must not wait for (or buffer) them.
    s.write(frame(Buffer.from('abc'), 0, 0xffffffff));
  },
  '/two': (s) => {
    s.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
    s.on('wantTrailers', () => s.sendTrailers({ 'grpc-status': '0' }));
    s.end(Buffer.concat([frame(version), frame(version)]));
  },
  '/empty': (s) => {
    s.respond(
      { ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '0' },
      { endStream: true },
    );
  },
  '/denied': (s) => {
    s.respond(
      {
        ':status': 200,
        'content-type': 'application/grpc',
        'grpc-status': '7',
        'grpc-message': `no%0D%0A%1B[31mway${'x'.repeat(4000)}`,
      },
      { endStream: true },
    );
  },
  '/garbage': (s) => {
    s.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
    s.on('wantTrailers', () => s.sendTrailers({ 'grpc-status': '0' }));
    s.end(frame(Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f])));
  },
  '/silent': () => {
    // Never answers.
  },
  '/http404': (s) => {
    s.respond({ ':status': 404 }, { endStream: true });
  },
  '/cut': (s) => {
    s.respond({ ':status': 200, 'content-type': 'application/grpc' });
    s.write(frame(encode(pb.Envelope, { namespace: 'default', topic: '/tasks/start' })));
    setTimeout(() => s.close(http2.constants.NGHTTP2_INTERNAL_ERROR), 20);
  },
};

describe('engines: gRPC client against a hostile HTTP/2 server', () => {
  let dir = '';
  let server: http2.Http2Server;
  let sock = '';
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), `${P}-`));
    sock = join(dir, 'grpc.sock');
    server = http2.createServer();
    server.on('stream', (s, headers) => {
      s.on('error', () => undefined);
      s.resume();
      const b = behaviours[String(headers[':path'])];
      if (b) b(s);
      else s.respond({ ':status': 404 }, { endStream: true });
    });
    await new Promise<void>((resolve) => server.listen(sock, resolve));
  });
  after(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    rmSync(dir, { recursive: true, force: true });
  });

  const call = (path: string, timeoutMs = 2000) => {
    const c = new GrpcClient(sock, 1024 * 1024);
    return c.unary(path, pb.Empty, {}, pb.VersionResponse, timeoutMs).finally(() => c.close());
  };

  it('decodes a well-formed answer', async () => {
    assert.deepEqual(await call('/ok'), { version: '1.7.0', revision: 'r' });
  });

  it('refuses what a hostile engine sends, each with one line', async () => {
    const cases: [string, RegExp][] = [
      ['/compressed', /compressed message/],
      ['/huge', /answer exceeds the 1 MiB cap \(a message of 4294967295 bytes\)/],
      ['/two', /more than one message/],
      ['/empty', /no complete answer message/],
      ['/garbage', /malformed answer .*beyond/],
      ['/http404', /HTTP status 404/],
    ];
    for (const [path, want] of cases) await assert.rejects(call(path), want, path);
  });

  it('reports a status with its message, control characters removed and cut to bounds', async () => {
    const err = await call('/denied').then(
      () => assert.fail('resolved'),
      (e: Error) => e,
    );
    assert.match(err.message, /^PERMISSION_DENIED: no {2} \[31mway/);
    assert.ok(err.message.length < 600, `${err.message.length} characters`);
    for (const ch of ['\r', '\n', '\u001b'])
      assert.ok(!err.message.includes(ch), JSON.stringify(err.message));
  });

  it('gives up on a silent engine at the deadline', async () => {
    await assert.rejects(call('/silent', 200), /DEADLINE_EXCEEDED: no answer within 200 ms/);
  });

  it('fails on a socket without a server, and a stream cut short ends once with a reason', async () => {
    const none = new GrpcClient(join(dir, 'none.sock'));
    await assert.rejects(none.waitForReady(1000), /not connected/);
    none.close();

    const c = new GrpcClient(sock);
    const got: string[] = [];
    const ended = await new Promise<Error>((resolve) => {
      c.serverStream('/cut', pb.SubscribeRequest, { filters: [] }, pb.Envelope, {
        onMessage: (m) => got.push(String(m.topic)),
        onEnd: resolve,
      });
    });
    c.close();
    assert.deepEqual(got, ['/tasks/start']);
    assert.match(ended.message, /not connected|event stream ended/);
  });

  it('splits frames that arrive a byte at a time', () => {
    const r = new FrameReader(1024);
    const bytes = Buffer.concat([frame(version), frame(Buffer.alloc(0))]);
    const out: Buffer[] = [];
    for (const b of bytes) out.push(...r.push(Buffer.from([b])));
    assert.equal(out.length, 2);
    assert.deepEqual(out[0], Buffer.from(version));
    assert.equal(r.pending, 0);
  });
});
