/** Every benchmark suite, in the order `npm run bench` runs them. */

import { suite as capture } from './capture.js';
import { suite as check } from './check.js';
import { suite as cli } from './cli.js';
import { suite as cold } from './cold.js';
import { suite as engines } from './engines.js';
import { suite as events } from './events.js';
import { suite as forwardedPorts } from './forwarded-ports.js';
import { suite as hub } from './hub.js';
import { suite as lab } from './lab.js';
import { suite as namespaces } from './namespaces.js';
import { suite as network } from './network.js';
import { suite as oneshot } from './oneshot.js';
import { suite as serveVerify } from './serve-verify.js';
import { suite as service } from './service.js';
import type { BenchSuite } from './types.js';
import { suite as views } from './views.js';

export const suites: BenchSuite[] = [
  cli,
  oneshot,
  cold,
  namespaces,
  network,
  views,
  engines,
  service,
  events,
  forwardedPorts,
  lab,
  serveVerify,
  capture,
  check,
  hub,
];
