/**
 * Query parameters validated against their TypeBox schemas (service/schema.ts),
 * the same schemas openapi.ts turns into the document's parameters. Values
 * are taken as they arrive (strings; every value of a parameter whose schema
 * is an array, the first otherwise); the handlers parse them further.
 */
import { KindGuard, type Static, type TObject } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import type { Context } from 'hono';
import { ProblemError, problem } from '../problem.js';
import type { Env } from './deps.js';

export function readQuery<T extends TObject>(c: Context<Env>, schema: T, slug = 'bad-query'): Static<T> {
  const raw: Record<string, string | string[]> = {};
  for (const [name, prop] of Object.entries(schema.properties)) {
    if (KindGuard.IsArray(prop)) raw[name] = c.req.queries(name) ?? [];
    else {
      const v = c.req.query(name);
      if (v !== undefined) raw[name] = v;
    }
  }
  const error = Value.Errors(schema, raw).First();
  if (error) {
    const name = error.path.split('/')[1] ?? '';
    throw new ProblemError(problem(400, slug, `${name}=: ${error.message}`));
  }
  return raw as Static<T>;
}
