/**
 * The model's vocabulary for groups and lab nodes, shared by the stages that
 * make them, the views and the web UI (pure constants, no imports).
 */

/** Group.type of a lab built by `wirescope lab up`. */
export const LAB_GROUP_TYPE = 'wirescope.lab';
/** Container.type of a lab's netns or container node. */
export const LAB_NODE_TYPE = 'lab';
/** Container.engine of lab nodes: wirescope's labs, which no engine process runs. */
export const LAB_ENGINE = 'wirescope-lab';
/** Group.id of a lab: `lab/<name>` (ARCHITECTURE.md "Object identity"). */
export const labGroupId = (lab: string): string => `lab/${lab}`;

/** What a group is, in one word, as views name it: "project shop", "pod default/web", "lab conlink". */
export function groupKind(type: string): string {
  if (type === LAB_GROUP_TYPE) return 'lab';
  if (type === 'com.docker.compose.project') return 'project';
  // io.kubernetes.pod, io.podman.pod
  if (type.endsWith('.pod')) return 'pod';
  return 'group';
}
