/** Draft model objects for the engine stage's pure tests. */
import type { Draft } from '../../model/types.js';

/** A running Docker container of engine `docker-1` with these labels, in no group yet. */
export const dockerDraft = (id: string, labels: Record<string, string>): Draft.Container => ({
  id,
  name: id,
  type: 'docker',
  engine: 'docker-1',
  state: 'running',
  labels,
  privileged: false,
  groups: [],
});
