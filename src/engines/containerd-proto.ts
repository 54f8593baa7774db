/**
 * Minimal hand-written protobuf definitions for the parts of containerd's
 * gRPC API wirescope uses. Field numbers follow containerd's api/ (1.6/1.7/2.x
 * keep them stable): services/namespaces/v1, services/containers/v1,
 * services/tasks/v1 + types/task, services/events/v1, services/version/v1.
 * google.protobuf.Any/Timestamp/Empty are re-declared locally with the same
 * wire layout so no well-known-type files are needed.
 */
export const CONTAINERD_PROTO = `
syntax = "proto3";
package wirescope.containerd;

message Any { string type_url = 1; bytes value = 2; }
message Timestamp { int64 seconds = 1; int32 nanos = 2; }
message Empty {}

message Namespace { string name = 1; map<string, string> labels = 2; }
message ListNamespacesRequest { string filter = 1; }
message ListNamespacesResponse { repeated Namespace namespaces = 1; }
service Namespaces { rpc List(ListNamespacesRequest) returns (ListNamespacesResponse); }

message Runtime { string name = 1; Any options = 2; }
message Container {
  string id = 1;
  map<string, string> labels = 2;
  string image = 3;
  Runtime runtime = 4;
  Any spec = 5;
  string snapshotter = 6;
  string snapshot_key = 7;
  Timestamp created_at = 8;
  Timestamp updated_at = 9;
}
message ListContainersRequest { repeated string filters = 1; }
message ListContainersResponse { repeated Container containers = 1; }
service Containers { rpc List(ListContainersRequest) returns (ListContainersResponse); }

enum Status { UNKNOWN = 0; CREATED = 1; RUNNING = 2; STOPPED = 3; PAUSED = 4; PAUSING = 5; }
message Process {
  string container_id = 1;
  string id = 2;
  uint32 pid = 3;
  Status status = 4;
  uint32 exit_status = 9;
  Timestamp exited_at = 10;
}
message ListTasksRequest { string filter = 1; }
message ListTasksResponse { repeated Process tasks = 1; }
service Tasks { rpc List(ListTasksRequest) returns (ListTasksResponse); }

message SubscribeRequest { repeated string filters = 1; }
message Envelope { Timestamp timestamp = 1; string namespace = 2; string topic = 3; Any event = 4; }
service Events { rpc Subscribe(SubscribeRequest) returns (stream Envelope); }

message VersionResponse { string version = 1; string revision = 2; }
service Version { rpc Version(Empty) returns (VersionResponse); }
`;

/** gRPC service paths: containerd registers them under its own package names. */
export const CONTAINERD_SERVICES = {
  namespaces: '/containerd.services.namespaces.v1.Namespaces/List',
  containers: '/containerd.services.containers.v1.Containers/List',
  tasks: '/containerd.services.tasks.v1.Tasks/List',
  events: '/containerd.services.events.v1.Events/Subscribe',
  version: '/containerd.services.version.v1.Version/Version',
} as const;
