/**
 * Every URL the hub hands out, built from the configured base URL in one place
 * (JupyterHub's layout: `<base>hub/…` for the hub, `<base>user/<name>/…` for servers).
 */
export class HubUrls {
  /** `base` always starts and ends with `/`. */
  constructor(readonly base: string) {}

  hub(path = ''): string {
    return `${this.base}hub/${path.replace(/^\//, '')}`;
  }

  api(path = ''): string {
    return this.hub(`api/${path.replace(/^\//, '')}`);
  }

  /** `/user/alice/` (or `/user/alice/nb1/` for a named server): always ends with `/`. */
  server(user: string, serverName = ''): string {
    const named = serverName ? `${encodeURIComponent(serverName)}/` : '';
    return `${this.base}user/${encodeURIComponent(user)}/${named}`;
  }

  /** The proxy's route key for a server: the decoded path, as the proxy matches decoded paths. */
  serverRoute(user: string, serverName = ''): string {
    return `${this.base}user/${user}/${serverName ? `${serverName}/` : ''}`;
  }

  spawnPending(user: string, serverName = ''): string {
    return this.hub(`spawn-pending/${encodeURIComponent(user)}${serverName ? `/${encodeURIComponent(serverName)}` : ''}`);
  }

  progress(user: string, serverName = ''): string {
    const server = serverName ? `servers/${encodeURIComponent(serverName)}` : 'server';
    return this.api(`users/${encodeURIComponent(user)}/${server}/progress`);
  }

  login(next?: string): string {
    return this.hub(next ? `login?next=${encodeURIComponent(next)}` : 'login');
  }
}
