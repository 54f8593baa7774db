/** Makes pods through a real CRI server, as kubelet would (host network: no CNI needed). */
import { CRI_SERVICE } from '../cri-proto.js';
import { method, serviceMethods, unary, unixClient } from './grpc-js.js';
import { CRI_PROTO } from './protos.js';

export interface TestPod {
  sandboxId: string;
  containerId: string;
}

export async function runPod(
  api: string,
  pod: string,
  uid: string,
  image: string,
  cmd: string[],
): Promise<TestPod> {
  const client = unixClient(api);
  const m = serviceMethods(CRI_PROTO, 'wirescope.cri.RuntimeService');
  const call = <T>(name: string, req: unknown) =>
    unary<T>(client, `${CRI_SERVICE}${name}`, method(m, name), req, 30000);
  try {
    const labels = {
      'io.kubernetes.pod.name': pod,
      'io.kubernetes.pod.namespace': 'default',
      'io.kubernetes.pod.uid': uid,
    };
    const config = {
      metadata: { name: pod, uid, namespace: 'default', attempt: 0 },
      labels,
      linux: { security_context: { namespace_options: { network: 'NODE', pid: 'CONTAINER', ipc: 'POD' } } },
    };
    const { pod_sandbox_id: sandboxId } = await call<{ pod_sandbox_id: string }>('RunPodSandbox', { config });
    const { container_id: containerId } = await call<{ container_id: string }>('CreateContainer', {
      pod_sandbox_id: sandboxId,
      config: {
        metadata: { name: 'app', attempt: 0 },
        image: { image },
        command: cmd,
        labels: { ...labels, 'io.kubernetes.container.name': 'app' },
        linux: { security_context: { namespace_options: { network: 'NODE', pid: 'CONTAINER', ipc: 'POD' } } },
      },
      sandbox_config: config,
    });
    await call('StartContainer', { container_id: containerId });
    return { sandboxId, containerId };
  } finally {
    client.close();
  }
}

export async function removePod(api: string, sandboxId: string): Promise<void> {
  const client = unixClient(api);
  const m = serviceMethods(CRI_PROTO, 'wirescope.cri.RuntimeService');
  const call = (name: string, req: unknown) =>
    unary(client, `${CRI_SERVICE}${name}`, method(m, name), req, 30000);
  try {
    await call('StopPodSandbox', { pod_sandbox_id: sandboxId });
    await call('RemovePodSandbox', { pod_sandbox_id: sandboxId });
  } finally {
    client.close();
  }
}
