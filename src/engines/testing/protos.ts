/**
 * The proto texts of containerd's and CRI's messages that wirescope's own
 * codec (../containerd-proto.ts, ../cri-proto.ts) declares as schemas. Tests
 * load them with proto-loader/protobufjs (testing/grpc-js.ts): a reference
 * encoder and server the hand-written codec and client are checked against,
 * and CRI's test-only calls (RunPodSandbox, CreateContainer, ...).
 */

/**
 * containerd's API (api/ of 1.6/1.7/2.x keep field numbers stable):
 * services/namespaces/v1, containers/v1, tasks/v1 + types/task, events/v1,
 * version/v1. google.protobuf.Any/Timestamp/Empty re-declared with the same wire layout.
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

/** Kubernetes CRI runtime.v1 (k8s.io/cri-api pkg/apis/runtime/v1/api.proto); unused fields left out. */
export const CRI_PROTO = `
syntax = "proto3";
package wirescope.cri;

message VersionRequest { string version = 1; }
message VersionResponse { string version = 1; string runtime_name = 2; string runtime_version = 3; string runtime_api_version = 4; }

enum NamespaceMode { POD = 0; CONTAINER = 1; NODE = 2; TARGET = 3; }
message NamespaceOption { NamespaceMode network = 1; NamespaceMode pid = 2; NamespaceMode ipc = 3; string target_id = 4; }
message LinuxSandboxSecurityContext { NamespaceOption namespace_options = 1; bool privileged = 6; }
message LinuxPodSandboxConfig { string cgroup_parent = 1; LinuxSandboxSecurityContext security_context = 2; }
message PodSandboxMetadata { string name = 1; string uid = 2; string namespace = 3; uint32 attempt = 4; }
message PodSandboxConfig {
  PodSandboxMetadata metadata = 1;
  string hostname = 2;
  string log_directory = 3;
  map<string, string> labels = 6;
  map<string, string> annotations = 7;
  LinuxPodSandboxConfig linux = 8;
}
message RunPodSandboxRequest { PodSandboxConfig config = 1; string runtime_handler = 2; }
message RunPodSandboxResponse { string pod_sandbox_id = 1; }
message PodSandboxIdRequest { string pod_sandbox_id = 1; }
message Empty {}

enum PodSandboxState { SANDBOX_READY = 0; SANDBOX_NOTREADY = 1; }
message PodSandbox {
  string id = 1;
  PodSandboxMetadata metadata = 2;
  PodSandboxState state = 3;
  int64 created_at = 4;
  map<string, string> labels = 5;
  map<string, string> annotations = 6;
}
message ListPodSandboxRequest {}
message ListPodSandboxResponse { repeated PodSandbox items = 1; }
message PodSandboxStatusRequest { string pod_sandbox_id = 1; bool verbose = 2; }
message PodSandboxStatus { string id = 1; int64 created_at = 4; }
message PodSandboxStatusResponse { PodSandboxStatus status = 1; map<string, string> info = 2; }

message ImageSpec { string image = 1; }
message ContainerMetadata { string name = 1; uint32 attempt = 2; }
message LinuxContainerSecurityContext { bool privileged = 2; NamespaceOption namespace_options = 3; }
message LinuxContainerConfig { LinuxContainerSecurityContext security_context = 2; }
message ContainerConfig {
  ContainerMetadata metadata = 1;
  ImageSpec image = 2;
  repeated string command = 3;
  repeated string args = 4;
  map<string, string> labels = 9;
  map<string, string> annotations = 10;
  LinuxContainerConfig linux = 15;
}
message CreateContainerRequest { string pod_sandbox_id = 1; ContainerConfig config = 2; PodSandboxConfig sandbox_config = 3; }
message CreateContainerResponse { string container_id = 1; }
message ContainerIdRequest { string container_id = 1; }

enum ContainerState { CONTAINER_CREATED = 0; CONTAINER_RUNNING = 1; CONTAINER_EXITED = 2; CONTAINER_UNKNOWN = 3; }
message Container {
  string id = 1;
  string pod_sandbox_id = 2;
  ContainerMetadata metadata = 3;
  ImageSpec image = 4;
  string image_ref = 5;
  ContainerState state = 6;
  int64 created_at = 7;
  map<string, string> labels = 8;
  map<string, string> annotations = 9;
}
message ListContainersRequest {}
message ListContainersResponse { repeated Container containers = 1; }
message ContainerStatusRequest { string container_id = 1; bool verbose = 2; }
message ContainerStatus { string id = 1; ContainerState state = 3; int64 started_at = 5; }
message ContainerStatusResponse { ContainerStatus status = 1; map<string, string> info = 2; }

service RuntimeService {
  rpc Version(VersionRequest) returns (VersionResponse);
  rpc RunPodSandbox(RunPodSandboxRequest) returns (RunPodSandboxResponse);
  rpc StopPodSandbox(PodSandboxIdRequest) returns (Empty);
  rpc RemovePodSandbox(PodSandboxIdRequest) returns (Empty);
  rpc PodSandboxStatus(PodSandboxStatusRequest) returns (PodSandboxStatusResponse);
  rpc ListPodSandbox(ListPodSandboxRequest) returns (ListPodSandboxResponse);
  rpc CreateContainer(CreateContainerRequest) returns (CreateContainerResponse);
  rpc StartContainer(ContainerIdRequest) returns (Empty);
  rpc ListContainers(ListContainersRequest) returns (ListContainersResponse);
  rpc ContainerStatus(ContainerStatusRequest) returns (ContainerStatusResponse);
}
`;
