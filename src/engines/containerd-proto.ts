/**
 * The parts of containerd's gRPC API wirescope uses, as schemas of its own
 * protobuf codec (protobuf.ts). Field numbers follow containerd's api/
 * (1.6/1.7/2.x keep them stable): services/namespaces/v1,
 * services/containers/v1, services/tasks/v1 + types/task, services/events/v1,
 * services/version/v1. testing/protos.ts holds the same as proto text.
 */
import type { Schema } from './protobuf.js';

const Any: Schema = [
  { name: 'type_url', no: 1, type: 'string' },
  { name: 'value', no: 2, type: 'bytes' },
];
const Timestamp: Schema = [
  { name: 'seconds', no: 1, type: 'int64' },
  { name: 'nanos', no: 2, type: 'int32' },
];
export const Empty: Schema = [];

const Namespace: Schema = [
  { name: 'name', no: 1, type: 'string' },
  { name: 'labels', no: 2, type: 'map' },
];
export const ListNamespacesRequest: Schema = [{ name: 'filter', no: 1, type: 'string' }];
export const ListNamespacesResponse: Schema = [
  { name: 'namespaces', no: 1, type: 'message', repeated: true, message: () => Namespace },
];

const Runtime: Schema = [
  { name: 'name', no: 1, type: 'string' },
  { name: 'options', no: 2, type: 'message', message: () => Any },
];
const Container: Schema = [
  { name: 'id', no: 1, type: 'string' },
  { name: 'labels', no: 2, type: 'map' },
  { name: 'image', no: 3, type: 'string' },
  { name: 'runtime', no: 4, type: 'message', message: () => Runtime },
  { name: 'spec', no: 5, type: 'message', message: () => Any },
  { name: 'snapshotter', no: 6, type: 'string' },
  { name: 'snapshot_key', no: 7, type: 'string' },
  { name: 'created_at', no: 8, type: 'message', message: () => Timestamp },
  { name: 'updated_at', no: 9, type: 'message', message: () => Timestamp },
];
export const ListContainersRequest: Schema = [{ name: 'filters', no: 1, type: 'string', repeated: true }];
export const ListContainersResponse: Schema = [
  { name: 'containers', no: 1, type: 'message', repeated: true, message: () => Container },
];

const TASK_STATUS = ['UNKNOWN', 'CREATED', 'RUNNING', 'STOPPED', 'PAUSED', 'PAUSING'] as const;
const Process: Schema = [
  { name: 'container_id', no: 1, type: 'string' },
  { name: 'id', no: 2, type: 'string' },
  { name: 'pid', no: 3, type: 'uint32' },
  { name: 'status', no: 4, type: 'enum', values: TASK_STATUS },
  { name: 'exit_status', no: 9, type: 'uint32' },
  { name: 'exited_at', no: 10, type: 'message', message: () => Timestamp },
];
export const ListTasksRequest: Schema = [{ name: 'filter', no: 1, type: 'string' }];
export const ListTasksResponse: Schema = [
  { name: 'tasks', no: 1, type: 'message', repeated: true, message: () => Process },
];

export const SubscribeRequest: Schema = [{ name: 'filters', no: 1, type: 'string', repeated: true }];
export const Envelope: Schema = [
  { name: 'timestamp', no: 1, type: 'message', message: () => Timestamp },
  { name: 'namespace', no: 2, type: 'string' },
  { name: 'topic', no: 3, type: 'string' },
  { name: 'event', no: 4, type: 'message', message: () => Any },
];

export const VersionResponse: Schema = [
  { name: 'version', no: 1, type: 'string' },
  { name: 'revision', no: 2, type: 'string' },
];

/** gRPC service paths: containerd registers them under its own package names. */
export const CONTAINERD_SERVICES = {
  namespaces: '/containerd.services.namespaces.v1.Namespaces/List',
  containers: '/containerd.services.containers.v1.Containers/List',
  tasks: '/containerd.services.tasks.v1.Tasks/List',
  events: '/containerd.services.events.v1.Events/Subscribe',
  version: '/containerd.services.version.v1.Version/Version',
} as const;
