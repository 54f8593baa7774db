/**
 * deploy/kubernetes/ is valid Kubernetes, checked offline against the API's
 * OpenAPI schemas (kubernetes-models' validators), and says what the
 * container deployment says: the DaemonSet runs the image the Dockerfile
 * builds, in the host's PID namespace, with exactly the capabilities of
 * deploy/compose.yaml, a read-only root, no privilege escalation, the
 * runtime's seccomp profile, the node's name from the downward API, and
 * resource requests and limits; the headless Service and the NetworkPolicy
 * select its pods; the agents ask for no API access (no RBAC, no token). The
 * hub (hub.yaml) runs unprivileged, as a non-root user, and its RBAC is minimal:
 * one namespaced Role with get/list/watch on EndpointSlices, bound to its own
 * service account; nothing cluster-scoped anywhere.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { DaemonSet } from 'kubernetes-models/apps/v1/DaemonSet';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import { Role } from 'kubernetes-models/rbac.authorization.k8s.io/v1/Role';
import { RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { Service } from 'kubernetes-models/v1/Service';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import { parse, parseAllDocuments } from 'yaml';
import { IMAGE, REPO } from './testing/image.js';

const DIR = join(REPO, 'deploy/kubernetes');

/** The schema validators by apiVersion and kind; a kind not here is not expected in the manifests. */
const MODELS: Record<string, (o: Record<string, unknown>) => { validate(): void }> = {
  'apps/v1 DaemonSet': (o) => new DaemonSet(o),
  'v1 Service': (o) => new Service(o),
  'v1 Namespace': (o) => new Namespace(o),
  'networking.k8s.io/v1 NetworkPolicy': (o) => new NetworkPolicy(o),
  'apps/v1 Deployment': (o) => new Deployment(o),
  'v1 ServiceAccount': (o) => new ServiceAccount(o),
  'rbac.authorization.k8s.io/v1 Role': (o) => new Role(o),
  // Its constructor requires roleRef; the schema check reports a missing one.
  'rbac.authorization.k8s.io/v1 RoleBinding': (o) =>
    new RoleBinding(o as unknown as ConstructorParameters<typeof RoleBinding>[0]),
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
  ports?: { name?: string; containerPort: number }[];
  volumeMounts?: { name: string; mountPath: string }[];
  env?: { name: string; valueFrom?: { fieldRef?: { fieldPath?: string } } }[];
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: {
    runAsNonRoot?: boolean;
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
  securityContext?: {
    runAsNonRoot?: boolean;
    runAsUser?: number;
    seccompProfile?: { type?: string };
    appArmorProfile?: { type?: string };
  };
  containers: Container[];
  volumes?: { name: string; secret?: { secretName: string; defaultMode?: number } }[];
}
interface Workload {
  metadata: { name: string; namespace?: string };
  spec: {
    selector: { matchLabels: Record<string, string> };
    template: { metadata: { labels: Record<string, string> }; spec: PodSpec };
  };
}

/** The one object of `kind` (named `name`, when several objects of the kind are expected). */
const only = (all: Manifest[], kind: string, name?: string): Manifest => {
  const found = all.filter(
    (m) => m.obj.kind === kind && (name === undefined || (m.obj.metadata as { name?: string }).name === name),
  );
  assert.equal(found.length, 1, `expected one ${kind}${name ? ` ${name}` : ''}, found ${found.length}`);
  return found[0] as Manifest;
};

interface Rule {
  apiGroups?: string[];
  resources?: string[];
  verbs?: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
}
interface Policy {
  spec: {
    podSelector: { matchLabels: Record<string, string> };
    policyTypes: string[];
    ingress?: {
      from?: { podSelector?: { matchLabels?: Record<string, string> } }[];
      ports?: { port?: string | number }[];
    }[];
    egress?: {
      to?: { podSelector?: { matchLabels?: Record<string, string> } }[];
      ports?: { port?: string | number }[];
    }[];
  };
}
/** Whether a selector's labels all hold in `labels`. */
const selects = (sel: Record<string, string> | undefined, labels: Record<string, string>): boolean =>
  sel !== undefined && Object.entries(sel).every(([k, v]) => labels[k] === v);

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

  test('the headless Service and the NetworkPolicy select the DaemonSet pods; the agents ask for no API access', () => {
    const labels = ds.spec.template.metadata.labels;
    for (const [k, v] of Object.entries(ds.spec.selector.matchLabels)) assert.equal(labels[k], v);
    const svc = only(all, 'Service', 'wirescope').obj as {
      spec: { clusterIP?: string; selector: Record<string, string> };
    };
    assert.equal(svc.spec.clusterIP, 'None');
    for (const [k, v] of Object.entries(svc.spec.selector))
      assert.equal(labels[k], v, `Service selector ${k}`);
    const np = only(all, 'NetworkPolicy', 'wirescope').obj as {
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
    // API access is the hub's alone.
    assert.deepEqual(
      all.filter((m) => /Role|ServiceAccount/.test(String(m.obj.kind))).map((m) => m.file),
      ['hub.yaml', 'hub.yaml', 'hub.yaml'],
    );
  });

  test("the hub's RBAC is minimal: one namespaced Role, get/list/watch on EndpointSlices, bound to its account", () => {
    const ns = (only(all, 'Namespace').obj as { metadata: { name: string } }).metadata.name;
    assert.deepEqual(
      all.filter((m) => /^Cluster/.test(String(m.obj.kind))).map((m) => `${m.file}: ${String(m.obj.kind)}`),
      [],
      'nothing cluster-wide',
    );
    const role = only(all, 'Role').obj as { metadata: { name: string; namespace: string }; rules: Rule[] };
    assert.equal(role.metadata.namespace, ns);
    assert.deepEqual(role.rules, [
      { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['get', 'list', 'watch'] },
    ]);
    const binding = only(all, 'RoleBinding').obj as {
      metadata: { namespace: string };
      roleRef: { kind: string; name: string; apiGroup: string };
      subjects: { kind: string; name: string; namespace?: string }[];
    };
    assert.equal(binding.metadata.namespace, ns);
    assert.deepEqual(binding.roleRef, {
      apiGroup: 'rbac.authorization.k8s.io',
      kind: 'Role',
      name: role.metadata.name,
    });
    const sa = only(all, 'ServiceAccount').obj as {
      metadata: { name: string };
      automountServiceAccountToken?: boolean;
    };
    assert.deepEqual(binding.subjects, [{ kind: 'ServiceAccount', name: sa.metadata.name, namespace: ns }]);
    assert.equal(sa.automountServiceAccountToken, false, 'the token only where a pod asks for it');
    const hub = only(all, 'Deployment').obj as unknown as Workload;
    assert.equal(hub.spec.template.spec.serviceAccountName, sa.metadata.name);
    assert.equal(hub.spec.template.spec.automountServiceAccountToken, true);
  });

  test('the hub runs unprivileged, follows the agents of the headless Service, reads the token from the Secret', () => {
    const hub = only(all, 'Deployment').obj as unknown as Workload;
    const hubPod = hub.spec.template.spec;
    const c = hubPod.containers[0] as Container;
    assert.equal(c.image, IMAGE);
    assert.notEqual(hubPod.hostPID, true);
    assert.notEqual(hubPod.hostNetwork, true);
    assert.equal(hubPod.securityContext?.runAsNonRoot, true);
    assert.ok((hubPod.securityContext?.runAsUser ?? 0) > 0, 'a non-root uid');
    assert.equal(hubPod.securityContext?.seccompProfile?.type, 'RuntimeDefault');
    assert.deepEqual(c.securityContext?.capabilities, { drop: ['ALL'] }, 'no capability at all');
    assert.equal(c.securityContext?.allowPrivilegeEscalation, false);
    assert.notEqual(c.securityContext?.privileged, true);
    assert.equal(c.securityContext?.readOnlyRootFilesystem, true);
    for (const r of ['cpu', 'memory']) {
      assert.ok(c.resources?.requests?.[r], `requests.${r}`);
      assert.ok(c.resources?.limits?.[r], `limits.${r}`);
    }
    const args = c.args ?? [];
    const arg = (flag: string): string | undefined => args[args.indexOf(flag) + 1];
    assert.equal(args[0], 'hub');
    // --kubernetes NAMESPACE/SERVICE names the agents' headless Service, whose port is "http".
    const agentsSvc = only(all, 'Service', 'wirescope').obj as {
      metadata: { name: string; namespace: string };
      spec: { ports: { name: string }[] };
    };
    assert.equal(arg('--kubernetes'), `${agentsSvc.metadata.namespace}/${agentsSvc.metadata.name}`);
    assert.ok(agentsSvc.spec.ports.some((p) => p.name === 'http'));
    const port = c.ports?.find((p) => p.name === 'http')?.containerPort;
    assert.equal(arg('--listen'), `0.0.0.0:${port}`);
    // Tokens from a file of the agents' Secret, never on the command line.
    assert.ok(!args.includes('--token') && !args.includes('--agent-token'), 'no token in argv');
    const tokenVolume = hubPod.volumes?.find((v) => v.secret?.secretName === 'wirescope-token');
    assert.ok(tokenVolume, 'the Secret wirescope-token is mounted');
    const mount = c.volumeMounts?.find((m) => m.name === tokenVolume.name)?.mountPath;
    assert.equal(arg('--agent-token-file'), `${mount}/token`);
    assert.equal(arg('--token-file'), `${mount}/token`);
    assert.equal((tokenVolume.secret?.defaultMode ?? 0o644) & 0o007, 0, 'not readable by every user');
    // Its Service is a ClusterIP in front of its pods.
    const labels = hub.spec.template.metadata.labels;
    const svc = only(all, 'Service', 'wirescope-hub').obj as {
      spec: { type?: string; clusterIP?: string; selector: Record<string, string> };
    };
    assert.notEqual(svc.spec.clusterIP, 'None');
    assert.ok(selects(svc.spec.selector, labels));
  });

  test("the network policies let the hub reach the agents' port, and admit it there", () => {
    const hub = only(all, 'Deployment').obj as unknown as Workload;
    const hubLabels = hub.spec.template.metadata.labels;
    const agentLabels = ds.spec.template.metadata.labels;
    const agentPort = container.ports?.find((p) => p.name === 'http')?.containerPort;
    const agents = only(all, 'NetworkPolicy', 'wirescope').obj as unknown as Policy;
    assert.ok(
      agents.spec.ingress?.some(
        (r) =>
          r.from?.some((f) => selects(f.podSelector?.matchLabels, hubLabels)) &&
          r.ports?.some((p) => p.port === 'http' || p.port === agentPort),
      ),
      "the agents' policy admits the hub on the agents' port",
    );
    const own = only(all, 'NetworkPolicy', 'wirescope-hub').obj as unknown as Policy;
    assert.ok(selects(own.spec.podSelector.matchLabels, hubLabels));
    assert.deepEqual([...own.spec.policyTypes].sort(), ['Egress', 'Ingress']);
    assert.ok(
      own.spec.egress?.some(
        (r) =>
          r.to?.some((t) => selects(t.podSelector?.matchLabels, agentLabels)) &&
          r.ports?.some((p) => p.port === agentPort),
      ),
      "the hub's policy lets it reach the agents' port",
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
