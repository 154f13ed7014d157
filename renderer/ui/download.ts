/** Saving a file the hub answers with, as the browser's own download would. */
import type { HubApi } from '../api/client.js';
import { h } from '../dom.js';

/** GETs `path` and saves the answer under the name the hub gave it (or `defaultName`). */
export async function saveDownload(api: HubApi, path: string, defaultName: string): Promise<void> {
  const { blob, fileName } = await api.download(path);
  const url = URL.createObjectURL(blob);
  const link = h('a', { href: url, download: fileName ?? defaultName, hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  // Revoked later, not at once: the browser may still be reading it for the download.
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}
