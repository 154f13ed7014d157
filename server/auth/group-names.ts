/**
 * Group (class) names follow the username rules: they appear in URLs (`/hub/api/groups/<name>`) and
 * in scopes (`read:users!group=<name>`), where the same characters are safe. One function, so the
 * groups API and roster import refuse the same names with the same words.
 */
import { usernameProblem } from './usernames.js';

/** Why `name` cannot be a group name, or null. Names are used as given (no case folding). */
export function groupNameProblem(name: string): string | null {
  const problem = usernameProblem(name);
  return problem && problem.replace(/^A username/, 'A group name');
}
