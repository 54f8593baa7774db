import assert from 'node:assert/strict';
import { readlinkSync } from 'node:fs';
import { describe, it } from 'node:test';
import { CLONE_NEWNET, close, ioctl, NS_GET_NSTYPE, NS_GET_USERNS, open, SyscallError } from './libc.js';

describe('libc bindings', () => {
  it('opens a namespace file and asks the kernel its type and owner', () => {
    const fd = open('/proc/self/ns/net');
    try {
      assert.equal(ioctl(fd, NS_GET_NSTYPE), CLONE_NEWNET);
      const userFd = ioctl(fd, NS_GET_USERNS);
      const link = readlinkSync(`/proc/self/fd/${userFd}`);
      close(userFd);
      assert.match(link, /^user:\[\d+\]$/);
    } finally {
      close(fd);
    }
  });

  it('reports a vanished path as a SyscallError with errno ENOENT', () => {
    assert.throws(
      () => open('/proc/999999999/ns/net'),
      (e: unknown) => e instanceof SyscallError && e.vanished && /ENOENT|No such file/.test(e.message),
    );
  });
});
