/**
 * deploy/kubernetes/ is valid Kubernetes, checked offline against the API's
 * OpenAPI schemas (kubernetes-models' validators), and says what the
 * container deployment says: the DaemonSet runs the image the Dockerfile
 * builds, in the host's PID namespace, with exactly the capabilities of
 * deploy/compose.yaml, a read-only root, no privilege escalation, the
 * runtime's seccomp profile, the node's name from the downward API, and
 * resource requests and limits; the headless Service and the NetworkPolicy
 * select its pods; nothing asks for API access (no RBAC, no token).
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { DaemonSet } from 'kubernetes-models/apps/v1/DaemonSet';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { Service } from 'kubernetes-models/v1/Service';
import { parse, parseAllDocuments } from 'yaml';
import { IMAGE, REPO } from './testing/image.js';

const DIR = join(REPO, 'deploy/kubernetes');

/** The schema validators by apiVersion and kind; a kind not here is not expected in the manifests. */
const MODELS: Record<string, (o: Record<string, unknown>) => { validate(): void }> = {
  'apps/v1 DaemonSet': (o) => new DaemonSet(o),
  'v1 Service': (o) => new Service(o),
  'v1 Namespace': (o) => new Namespace(o),
  'networking.k8s.io/v1 NetworkPolicy': (o) => new NetworkPolicy(o),
};

interface Manifest {
  file: string;
  obj: Record<string, unknown>;
}

function manifests(): Manifest[] {
  const out: Manifest[] = [];
  for (const file of readdirSync(DIR)
    .filter((f) => f.endsWith('.yaml') || f.endsWith('.yml'))
    .sort()) {
    for (const doc of parseAllDocuments(readFileSync(join(DIR, file), 'utf8'))) {
      assert.equal(doc.errors.length, 0, `${file}: ${doc.errors[0]?.message}`);
      const obj = doc.toJS() as unknown;
      if (obj === null) continue;
      assert.ok(typeof obj === 'object' && !Array.isArray(obj), `${file}: a document is not an object`);
      out.push({ file, obj: obj as Record<string, unknown> });
    }
  }
  return out;
}

const key = (o: Record<string, unknown>): string => `${String(o.apiVersion)} ${String(o.kind)}`;

/** The schema errors of an object, one line; undefined when it validates. */
function schemaError(o: Record<string, unknown>): string | undefined {
  const make = MODELS[key(o)];
  if (!make) return `${key(o)}: not a kind these manifests are expected to hold`;
  try {
    make(o).validate();
    return undefined;
  } catch (e) {
    return (e as Error).message.split('\n')[0];
  }
}

// Plain views of the parts checked below (the models' own types are wider).
interface Container {
  image?: string;
  args?: string[];
  env?: { name: string; valueFrom?: { fieldRef?: { fieldPath?: string } } }[];
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: {
    allowPrivilegeEscalation?: boolean;
    privileged?: boolean;
    readOnlyRootFilesystem?: boolean;
    capabilities?: { drop?: string[]; add?: string[] };
  };
}
interface PodSpec {
  hostPID?: boolean;
  hostNetwork?: boolean;
  automountServiceAccountToken?: boolean;
  serviceAccountName?: string;
  securityContext?: { seccompProfile?: { type?: string }; appArmorProfile?: { type?: string } };
  containers: Container[];
}
interface Workload {
  metadata: { namespace?: string };
  spec: {
    selector: { matchLabels: Record<string, string> };
    template: { metadata: { labels: Record<string, string> }; spec: PodSpec };
  };
}

const only = (all: Manifest[], kind: string): Manifest => {
  const found = all.filter((m) => m.obj.kind === kind);
  assert.equal(found.length, 1, `expected one ${kind}, found ${found.length}`);
  return found[0] as Manifest;
};

describe('the Kubernetes manifests', () => {
  const all = manifests();
  const ds = only(all, 'DaemonSet').obj as unknown as Workload;
  const pod = ds.spec.template.spec;
  const container = pod.containers[0] as Container;

  test('every manifest validates against the Kubernetes schemas', () => {
    assert.ok(all.length >= 4, `only ${all.length} objects in ${DIR}`);
    for (const m of all) assert.equal(schemaError(m.obj), undefined, `${m.file}: ${key(m.obj)}`);
  });

  test('the schemas reject a DaemonSet with a wrong field type or value', () => {
    const broken = structuredClone(only(all, 'DaemonSet').obj) as unknown as Workload;
    (broken.spec.template.spec.containers[0] as { securityContext: unknown }).securityContext = {
      capabilities: { add: 'SYS_ADMIN' },
    };
    assert.match(schemaError(broken as unknown as Record<string, unknown>) ?? '', /capabilities\/add/);
    const unknownProfile = structuredClone(only(all, 'DaemonSet').obj) as unknown as Workload;
    unknownProfile.spec.template.spec.securityContext = { seccompProfile: { type: 'Permissive' } };
    assert.match(schemaError(unknownProfile as unknown as Record<string, unknown>) ?? '', /seccompProfile/);
  });

  test('one pod per node in the host PID namespace, with exactly the capabilities of the compose file', () => {
    assert.equal(pod.hostPID, true);
    // Its own network namespace, so the NetworkPolicy applies (CNIs skip host-network pods).
    assert.notEqual(pod.hostNetwork, true);
    assert.equal(container.image, IMAGE, 'the tag the Dockerfile is built with (package.json version)');
    const compose = parse(readFileSync(join(REPO, 'deploy/compose.yaml'), 'utf8')) as {
      services: { wirescope: { cap_drop: string[]; cap_add: string[] } };
    };
    const sc = container.securityContext;
    assert.deepEqual(sc?.capabilities?.drop, ['ALL']);
    assert.deepEqual(
      [...(sc?.capabilities?.add ?? [])].sort(),
      [...compose.services.wirescope.cap_add].sort(),
    );
    assert.deepEqual([...(sc?.capabilities?.add ?? [])].sort(), [
      'DAC_READ_SEARCH',
      'NET_ADMIN',
      'NET_RAW',
      'SYS_ADMIN',
      'SYS_PTRACE',
    ]);
    assert.equal(sc?.allowPrivilegeEscalation, false);
    assert.notEqual(sc?.privileged, true);
    assert.equal(sc?.readOnlyRootFilesystem, true);
    assert.equal(pod.securityContext?.seccompProfile?.type, 'RuntimeDefault');
    assert.equal(pod.securityContext?.appArmorProfile?.type, 'Unconfined');
  });

  test('the node name comes from the downward API, requests and limits are set, the token is a file', () => {
    const node = container.env?.find((e) => e.name === 'NODE_NAME');
    assert.equal(node?.valueFrom?.fieldRef?.fieldPath, 'spec.nodeName');
    assert.ok(container.args?.includes('$(NODE_NAME)'), 'the node name reaches wirescope (--allow-host)');
    for (const r of ['cpu', 'memory']) {
      assert.ok(container.resources?.requests?.[r], `requests.${r}`);
      assert.ok(container.resources?.limits?.[r], `limits.${r}`);
    }
    const args = container.args ?? [];
    assert.ok(args.includes('--token-file') && !args.includes('--token'), 'the token from a file, not argv');
  });

  test('the headless Service and the NetworkPolicy select the DaemonSet pods; no API access is asked for', () => {
    const labels = ds.spec.template.metadata.labels;
    for (const [k, v] of Object.entries(ds.spec.selector.matchLabels)) assert.equal(labels[k], v);
    const svc = only(all, 'Service').obj as {
      spec: { clusterIP?: string; selector: Record<string, string> };
    };
    assert.equal(svc.spec.clusterIP, 'None');
    for (const [k, v] of Object.entries(svc.spec.selector))
      assert.equal(labels[k], v, `Service selector ${k}`);
    const np = only(all, 'NetworkPolicy').obj as {
      spec: {
        podSelector: { matchLabels: Record<string, string> };
        policyTypes: string[];
        ingress: unknown[];
      };
    };
    for (const [k, v] of Object.entries(np.spec.podSelector.matchLabels))
      assert.equal(labels[k], v, `NetworkPolicy podSelector ${k}`);
    assert.deepEqual([...np.spec.policyTypes].sort(), ['Egress', 'Ingress']);
    assert.ok(np.spec.ingress.length > 0);
    // All in the one namespace the Namespace manifest makes.
    const ns = (only(all, 'Namespace').obj as { metadata: { name: string } }).metadata.name;
    for (const m of all)
      if (m.obj.kind !== 'Namespace')
        assert.equal((m.obj.metadata as { namespace?: string }).namespace, ns, `${m.file}: namespace`);
    assert.equal(pod.automountServiceAccountToken, false);
    assert.equal(pod.serviceAccountName, undefined);
    assert.deepEqual(
      all.filter((m) => /Role|ServiceAccount/.test(String(m.obj.kind))).map((m) => m.file),
      [],
    );
  });

  test("the README's commands are the ones the manifests and the container test use", () => {
    const readme = readFileSync(join(REPO, 'README.md'), 'utf8');
    assert.ok(readme.includes('kubectl apply -f deploy/kubernetes/'));
    assert.ok(
      readme.includes('kubectl -n wirescope create secret generic wirescope-token --from-file=token='),
    );
    assert.ok(readme.includes('docker compose -f deploy/compose.yaml up -d'));
  });
});
