/** A benchmark suite: measures wirescope against a peer tool in the same run. */
export interface BenchResult {
  /** What was measured, e.g. "namespace scan, 1000 netns". */
  name: string;
  /** Named figures, e.g. { "wirescope ms": 12.3, "lsns ms": 40.1, "ratio": 3.26, "RSS MB": 80 }. */
  figures: Record<string, number | string>;
  /** Goal check, if the issue names one. */
  goal?: { text: string; met: boolean };
}

export interface BenchSuite {
  name: string;
  /** Runs the suite; must clean up everything it created, even when it fails. */
  run(opts: { quick: boolean }): Promise<BenchResult[]>;
}
