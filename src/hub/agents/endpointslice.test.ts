/** The pure parts of the Kubernetes source: the `--kubernetes` argument and Kubernetes names. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isDns1123Subdomain, isPortName, parseServiceRef } from './endpointslice.js';

describe('--kubernetes [NAMESPACE/]SERVICE', () => {
  test('a namespace and a Service, or the Service in the default namespace', () => {
    assert.deepEqual(parseServiceRef('wirescope/wirescope', 'default'), {
      namespace: 'wirescope',
      service: 'wirescope',
    });
    assert.deepEqual(parseServiceRef('agents', 'wirescope'), { namespace: 'wirescope', service: 'agents' });
  });

  test('anything else is one escaped line', () => {
    for (const bad of [
      'a/b/c',
      '/svc',
      'ns/',
      'NS/svc',
      'ns/9svc',
      'ns/svc\u001b[2J',
      `${'a'.repeat(64)}/svc`,
      '',
    ])
      assert.throws(
        () => parseServiceRef(bad, 'default'),
        // biome-ignore lint/suspicious/noControlCharactersInRegex: checking control characters are escaped
        (e: Error) => /^--kubernetes: /.test(e.message) && !/[\u0000-\u001f]/.test(e.message),
        JSON.stringify(bad),
      );
  });
});

describe('Kubernetes names', () => {
  test('node names are DNS-1123 subdomains of at most 253 characters', () => {
    assert.ok(isDns1123Subdomain('ip-10-0-0-1.ec2.internal'));
    assert.ok(isDns1123Subdomain(`${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(61)}`));
    for (const bad of ['', 'Node', '-a', 'a-', 'a..b', 'a_b', `${'a'.repeat(254)}`, 'a\nb'])
      assert.equal(isDns1123Subdomain(bad), false, JSON.stringify(bad));
  });

  test('port names are IANA service names', () => {
    for (const ok of ['http', 'h2c', 'metrics-1']) assert.ok(isPortName(ok), ok);
    for (const bad of ['', '80', 'a--b', '-a', 'a-', 'HTTP', 'a'.repeat(16)])
      assert.equal(isPortName(bad), false, bad);
  });
});
