import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bytes } from './rtnetlink/testdata.js';
import { buildInetDiagReq, decodeInetDiag, INET_DIAG_REQ_V2_LEN, TCP_LISTEN } from './sockdiag.js';

describe('sock_diag codec', () => {
  it('builds inet_diag_req_v2 for a family, protocol and state mask', () => {
    const r = buildInetDiagReq(10, 6, 1 << TCP_LISTEN);
    assert.equal(r.length, INET_DIAG_REQ_V2_LEN);
    assert.deepEqual([r[0], r[1], r.readUInt32LE(4)], [10, 6, 1024]);
  });

  it('decodes a recorded dual-stack TCP listener with INET_DIAG_SKV6ONLY = 0', () => {
    const s = decodeInetDiag(bytes('diag_tcp6_listen'));
    assert.deepEqual(
      { ...s, inode: 0 },
      {
        family: 'inet6',
        state: 10,
        localPort: 8443,
        remotePort: 0,
        localAddress: '::',
        remoteAddress: '::',
        boundDev: 0,
        uid: 0,
        inode: 0,
        v6only: false,
      },
    );
    assert.ok((s?.inode ?? 0) > 0);
  });

  it('decodes a recorded unconnected UDP socket', () => {
    const s = decodeInetDiag(bytes('diag_udp4'));
    assert.equal(s?.family, 'inet');
    assert.equal(s?.state, 7);
    assert.equal(`${s?.localAddress}:${s?.localPort}`, '127.0.0.1:5353');
    assert.equal(s?.v6only, undefined);
  });

  it('rejects a message shorter than inet_diag_msg', () => {
    assert.equal(decodeInetDiag(bytes('diag_udp4').subarray(0, 40)), undefined);
  });
});
