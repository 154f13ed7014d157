/** Request bodies checked against a schema; any problem is one 400 naming the field. */
import type { z } from 'zod';
import { HttpError } from '../http-error.js';

export function parseBody<T extends z.ZodType>(schema: T, body: unknown): z.output<T> {
  const result = schema.safeParse(body ?? {});
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const field = issue?.path.length ? issue.path.join('.') : undefined;
  if (issue?.code === 'unrecognized_keys') {
    throw new HttpError(400, `Invalid JSON keys: ${issue.keys.join(', ')}`);
  }
  throw new HttpError(400, field ? `Invalid value for "${field}": ${issue?.message}` : `Invalid request body: ${issue?.message}`);
}
