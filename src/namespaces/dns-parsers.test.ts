import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseHosts, parseNameFile } from './hosts.js';
import { parseResolvConf } from './resolvconf.js';

describe('DNS file parsers', () => {
  it('reads nameservers, the last search list, the last domain and all options from resolv.conf', () => {
    const text = [
      '# generated',
      '; also a comment',
      'nameserver 10.0.0.1',
      'nameserver   fd00::1   # trailing remark',
      'search old.example',
      'search a.example b.example',
      'domain first.example',
      'domain corp.example',
      'options ndots:5 timeout:2',
      'options rotate',
      'sortlist 130.155.160.0/255.255.240.0',
      '',
    ].join('\n');
    assert.deepEqual(parseResolvConf(text), {
      nameservers: ['10.0.0.1', 'fd00::1'],
      search: ['a.example', 'b.example'],
      domain: 'corp.example',
      options: ['ndots:5', 'timeout:2', 'rotate'],
    });
  });

  it('returns empty lists for an empty resolv.conf', () => {
    assert.deepEqual(parseResolvConf(''), { nameservers: [], search: [], options: [] });
  });

  it('reads hosts entries with aliases, dropping comments and name-less lines', () => {
    const text =
      '127.0.0.1\tlocalhost\n::1 localhost ip6-localhost ip6-loopback # v6\n# 10.0.0.9 off\n10.0.0.3\n\n';
    assert.deepEqual(parseHosts(text), [
      { address: '127.0.0.1', names: ['localhost'] },
      { address: '::1', names: ['localhost', 'ip6-localhost', 'ip6-loopback'] },
    ]);
  });

  it('takes the first non-comment line of /etc/hostname, trimmed', () => {
    assert.equal(parseNameFile('# comment\n\n  web-1  \nignored\n'), 'web-1');
    assert.equal(parseNameFile('\n# only a comment\n'), undefined);
  });
});
