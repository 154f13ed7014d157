/**
 * Names that come from the teacher's upload (a handout's name, the paths of its files) and end up
 * as folders and files in every student's folder, on any OS. Each is checked before anything is
 * written; a name that would escape the folder (`..`, an absolute path), that one OS cannot create
 * (`con`, `a:b`, a trailing dot) or that Jupyter hides (`.x`) is refused with what is wrong.
 */
import { isWindowsDeviceName } from '../servers/student-folders.js';

/** Longest name of one file or folder, in UTF-8 bytes: what Linux, macOS and Windows all allow. */
const MAX_NAME_BYTES = 255;
/** Longest path of a file in a handout, in characters: Windows' classic limit leaves room for the student's folder. */
export const MAX_PATH_LENGTH = 160;
const MAX_DEPTH = 12;
export const MAX_HANDOUT_NAME_LENGTH = 80;
/** Names a student's folder already uses for something else. */
const TAKEN = new Set(['course-data']);

/** What is wrong with `name` as one file or folder name, or null when nothing is. */
export function fileNameProblem(name: string): string | null {
  if (name === '') return 'a name cannot be empty';
  if (name === '.' || name === '..') return `"${name}" is not a name`;
  if (name.startsWith('.')) return `"${name}" starts with a dot, which hides it in Jupyter`;
  if ([...name].some((character) => character.charCodeAt(0) < 0x20 || character.charCodeAt(0) === 0x7f)) return 'a name cannot hold control characters';
  if (/[\\/:*?"<>|]/.test(name)) return `"${name}" holds one of \\ / : * ? " < > |, which Windows does not allow in a name`;
  if (/[. ]$/.test(name)) return `"${name}" ends with a dot or a space, which Windows drops`;
  if (isWindowsDeviceName(name)) return `"${name}" is a name Windows keeps for a device`;
  if (Buffer.byteLength(name) > MAX_NAME_BYTES) return `"${name.slice(0, 40)}…" is longer than ${MAX_NAME_BYTES} bytes`;
  return null;
}

/** What is wrong with a handout's name (also its folder's name in each student's folder), or null. */
export function handoutNameProblem(name: string): string | null {
  if (name.length > MAX_HANDOUT_NAME_LENGTH) return `a handout's name is at most ${MAX_HANDOUT_NAME_LENGTH} characters`;
  if (TAKEN.has(name.toLowerCase())) return `"${name}" is already used in every student's folder`;
  return fileNameProblem(name);
}

/**
 * The segments of a file's path in a handout (`week 1/data/cities.csv`, `/` between folders), or
 * a message saying what is wrong with it.
 */
export function handoutPath(path: string): { segments: string[] } | { problem: string } {
  if (path.startsWith('/') || /^[a-z]:/i.test(path)) return { problem: `"${path}" is an absolute path; give it relative to the handout` };
  if (path.length > MAX_PATH_LENGTH) return { problem: `a path is at most ${MAX_PATH_LENGTH} characters` };
  const segments = path.split('/');
  if (segments.length > MAX_DEPTH) return { problem: `a path is at most ${MAX_DEPTH} folders deep` };
  for (const segment of segments) {
    const problem = fileNameProblem(segment);
    if (problem) return { problem: `${path}: ${problem}` };
  }
  return { segments };
}
