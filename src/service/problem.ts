/**
 * Errors as RFC 9457 problem documents (`application/problem+json`): every
 * error the service returns is one of these, so clients parse one shape.
 */

import type { Static } from '@sinclair/typebox';
import type { ProblemSchema } from './schema.js';

export const PROBLEM_TYPE_BASE = 'https://wirescope.invalid/problems/';

/** The document (schema.ts: ProblemSchema), plus any extension members (RFC 9457 §3.2). */
export type Problem = Static<typeof ProblemSchema> & { [extension: string]: unknown };

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  413: 'Content Too Large',
  421: 'Misdirected Request',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/** Builds a problem document; `slug` names the problem type (RFC 9457 §3.1.1). */
export function problem(
  status: number,
  slug: string,
  detail?: string,
  extra: Record<string, unknown> = {},
): Problem {
  const p: Problem = {
    type: `${PROBLEM_TYPE_BASE}${slug}`,
    title: TITLES[status] ?? 'Error',
    status,
    ...extra,
  };
  if (detail !== undefined) p.detail = detail;
  return p;
}

/** Thrown by handlers to answer with a problem document. */
export class ProblemError extends Error {
  constructor(
    readonly problem: Problem,
    readonly headers: Record<string, string> = {},
  ) {
    super(problem.detail ?? problem.title);
    this.name = 'ProblemError';
  }
}

export function problemResponse(p: Problem, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(p), {
    status: p.status,
    headers: { 'content-type': 'application/problem+json', ...headers },
  });
}
