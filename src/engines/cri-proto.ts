/**
 * What wirescope reads of the Kubernetes CRI (runtime.v1, k8s.io/cri-api
 * pkg/apis/runtime/v1/api.proto), the native API of CRI-O, as schemas of its
 * own protobuf codec (protobuf.ts): Version, ListPodSandbox,
 * PodSandboxStatus, ListContainers, ContainerStatus. Field numbers follow
 * api.proto; unused fields are left out (skipped on decoding).
 * testing/protos.ts holds the same, and the tests' calls, as proto text.
 */
import type { Schema } from './protobuf.js';

export const VersionRequest: Schema = [{ name: 'version', no: 1, type: 'string' }];
export const VersionResponse: Schema = [
  { name: 'version', no: 1, type: 'string' },
  { name: 'runtime_name', no: 2, type: 'string' },
  { name: 'runtime_version', no: 3, type: 'string' },
  { name: 'runtime_api_version', no: 4, type: 'string' },
];

const PodSandboxMetadata: Schema = [
  { name: 'name', no: 1, type: 'string' },
  { name: 'uid', no: 2, type: 'string' },
  { name: 'namespace', no: 3, type: 'string' },
  { name: 'attempt', no: 4, type: 'uint32' },
];
const PodSandbox: Schema = [
  { name: 'id', no: 1, type: 'string' },
  { name: 'metadata', no: 2, type: 'message', message: () => PodSandboxMetadata },
  { name: 'state', no: 3, type: 'enum', values: ['SANDBOX_READY', 'SANDBOX_NOTREADY'] },
  { name: 'created_at', no: 4, type: 'int64' },
  { name: 'labels', no: 5, type: 'map' },
  { name: 'annotations', no: 6, type: 'map' },
];
export const ListPodSandboxRequest: Schema = [];
export const ListPodSandboxResponse: Schema = [
  { name: 'items', no: 1, type: 'message', repeated: true, message: () => PodSandbox },
];
export const PodSandboxStatusRequest: Schema = [
  { name: 'pod_sandbox_id', no: 1, type: 'string' },
  { name: 'verbose', no: 2, type: 'bool' },
];
const PodSandboxStatus: Schema = [
  { name: 'id', no: 1, type: 'string' },
  { name: 'created_at', no: 4, type: 'int64' },
];
export const PodSandboxStatusResponse: Schema = [
  { name: 'status', no: 1, type: 'message', message: () => PodSandboxStatus },
  { name: 'info', no: 2, type: 'map' },
];

const ContainerMetadata: Schema = [
  { name: 'name', no: 1, type: 'string' },
  { name: 'attempt', no: 2, type: 'uint32' },
];
const ImageSpec: Schema = [{ name: 'image', no: 1, type: 'string' }];
const CONTAINER_STATE = ['CONTAINER_CREATED', 'CONTAINER_RUNNING', 'CONTAINER_EXITED', 'CONTAINER_UNKNOWN'];
const Container: Schema = [
  { name: 'id', no: 1, type: 'string' },
  { name: 'pod_sandbox_id', no: 2, type: 'string' },
  { name: 'metadata', no: 3, type: 'message', message: () => ContainerMetadata },
  { name: 'image', no: 4, type: 'message', message: () => ImageSpec },
  { name: 'image_ref', no: 5, type: 'string' },
  { name: 'state', no: 6, type: 'enum', values: CONTAINER_STATE },
  { name: 'created_at', no: 7, type: 'int64' },
  { name: 'labels', no: 8, type: 'map' },
  { name: 'annotations', no: 9, type: 'map' },
];
export const ListContainersRequest: Schema = [];
export const ListContainersResponse: Schema = [
  { name: 'containers', no: 1, type: 'message', repeated: true, message: () => Container },
];
export const ContainerStatusRequest: Schema = [
  { name: 'container_id', no: 1, type: 'string' },
  { name: 'verbose', no: 2, type: 'bool' },
];
const ContainerStatus: Schema = [
  { name: 'id', no: 1, type: 'string' },
  { name: 'state', no: 3, type: 'enum', values: CONTAINER_STATE },
  { name: 'started_at', no: 5, type: 'int64' },
];
export const ContainerStatusResponse: Schema = [
  { name: 'status', no: 1, type: 'message', message: () => ContainerStatus },
  { name: 'info', no: 2, type: 'map' },
];

/** The real service name: CRI servers register runtime.v1.RuntimeService. */
export const CRI_SERVICE = '/runtime.v1.RuntimeService/';
