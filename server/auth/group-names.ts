/**
 * Group (class) names follow the username rules of shape: they appear in URLs
 * (`/hub/api/groups/<name>`) and in scopes (`read:users!group=<name>`), where the same characters
 * are safe. Reserved usernames are fine as class names: nobody logs in as a class. One function, so
 * the groups API and roster import refuse the same names with the same words.
 */
import { nameShapeProblem } from './usernames.js';

/** Why `name` cannot be a group name, or null. Names are used as given (no case folding). */
export function groupNameProblem(name: string): string | null {
  return nameShapeProblem(name, 'group name');
}

/**
 * A class as a school system writes it, as a group name: `Physics 1A` → `Physics-1A`, `7/B` →
 * `7-B`. A name that is already valid is kept as it is.
 */
export function groupNameFromClass(label: string): string {
  if (groupNameProblem(label) === null) return label;
  return label.replace(/[^\p{L}\p{N}._-]+/gu, '-').replace(/^[._-]+|[._-]+$/g, '');
}
