/** What a decoder could not read, collected so the caller can turn it into one warning per namespace. */
export interface DecodeIssues {
  /** Messages with an attribute cut short (the decoded part is kept). */
  truncated: number;
  /** Messages too short for their fixed header (skipped). */
  malformed: number;
}

export const newIssues = (): DecodeIssues => ({ truncated: 0, malformed: 0 });
