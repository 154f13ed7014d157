/**
 * Whether a request to a student's server opens a file of one of their handouts. Every Jupyter app
 * (Notebook 6 and 7, JupyterLab, plain `jupyter server`) reads a notebook or text file through the
 * contents API (`api/contents/<path>`), and serves downloads, images and PDFs from `files/<path>`;
 * a GET of either below a handout's folder is the student opening it. Listing the handout's folder
 * itself is not: a file browser shows it without anyone opening anything.
 */
import { routingPath } from '../proxy/request-path.js';

const FILE_READS = ['/api/contents/', '/files/'];

/**
 * The top folder of the file a request reads, or undefined when it reads no file in a folder.
 * `path` is the request's URL (raw, with its query); `serverPrefix` the route it matched
 * (`/user/ann`), decoded as the proxy routes.
 */
export function folderOfFileRead(method: string | undefined, path: string, serverPrefix: string): string | undefined {
  if (method !== 'GET') return undefined;
  const decoded = routingPath(path);
  if (decoded === undefined || !decoded.startsWith(serverPrefix)) return undefined;
  const inServer = decoded.slice(serverPrefix.length);
  const read = FILE_READS.find((prefix) => inServer.startsWith(prefix));
  if (read === undefined) return undefined;
  const rest = inServer.slice(read.length);
  const slash = rest.indexOf('/');
  // A file below the folder: `Lesson 1/intro.ipynb`, not `Lesson 1` nor `Lesson 1/`.
  return slash > 0 && slash < rest.length - 1 ? rest.slice(0, slash) : undefined;
}
