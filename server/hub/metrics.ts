/**
 * Prometheus metrics at `<base>hub/metrics`, for `read:metrics` holders (JupyterHub's
 * `authenticate_prometheus` default). Names follow JupyterHub's so existing dashboards work.
 */
import type { IncomingMessage } from 'node:http';
import type { Response } from 'express';
import { hasScope } from '../rbac/scopes.js';
import type { HubContext } from './context.js';
import { HttpError } from './http-error.js';

/** Upper bounds (seconds) of the spawn-duration histogram's buckets, as JupyterHub's. */
const SPAWN_BUCKETS = [0.5, 1, 2.5, 5, 10, 15, 30, 60, 120, 180, 300, 600, Infinity];

export class HubMetrics {
  private readonly spawns = new Map<string, { buckets: number[]; sum: number; count: number }>();
  private readonly sources: (() => string)[] = [];

  /** Adds another part's metrics (the proxy's counters) to the page. */
  addSource(render: () => string): void {
    this.sources.push(render);
  }

  /** Records how long a server start took and how it ended (`success` or `failure`). */
  observeSpawn(seconds: number, status: 'success' | 'failure'): void {
    let series = this.spawns.get(status);
    if (!series) {
      series = { buckets: SPAWN_BUCKETS.map(() => 0), sum: 0, count: 0 };
      this.spawns.set(status, series);
    }
    SPAWN_BUCKETS.forEach((bound, i) => {
      if (seconds <= bound) series.buckets[i] = (series.buckets[i] ?? 0) + 1;
    });
    series.sum += seconds;
    series.count += 1;
  }

  render(ctx: HubContext): string {
    const users = ctx.users.list();
    const running = users.reduce(
      (n, user) => n + ctx.servers.activeServerNames(user).filter((name) => ctx.servers.view(user, name).phase === 'running').length,
      0,
    );
    const lines = [
      '# HELP jupyterhub_total_users Total number of users',
      '# TYPE jupyterhub_total_users gauge',
      `jupyterhub_total_users ${users.length}`,
      '# HELP jupyterhub_running_servers The number of user servers currently running',
      '# TYPE jupyterhub_running_servers gauge',
      `jupyterhub_running_servers ${running}`,
      '# HELP jupyterhub_server_spawn_duration_seconds Time taken for server spawning operation',
      '# TYPE jupyterhub_server_spawn_duration_seconds histogram',
    ];
    for (const [status, series] of this.spawns) {
      SPAWN_BUCKETS.forEach((bound, i) => {
        const le = bound === Infinity ? '+Inf' : String(bound);
        lines.push(`jupyterhub_server_spawn_duration_seconds_bucket{le="${le}",status="${status}"} ${series.buckets[i]}`);
      });
      lines.push(`jupyterhub_server_spawn_duration_seconds_count{status="${status}"} ${series.count}`);
      lines.push(`jupyterhub_server_spawn_duration_seconds_sum{status="${status}"} ${series.sum}`);
    }
    return `${lines.join('\n')}\n${this.sources.map((render) => render()).join('')}`;
  }
}

/** The metrics page, for token holders (or the hub's own pages) with `read:metrics`. */
export function metricsHandler(ctx: HubContext) {
  return (req: IncomingMessage, res: Response): void => {
    const identity = ctx.identities.forApi(req);
    if (!identity || !hasScope(identity.scopes, 'read:metrics')) {
      throw new HttpError(403, 'Reading the metrics needs the read:metrics scope (an admin token).');
    }
    res.type('text/plain; version=0.0.4').send(ctx.metrics.render(ctx));
  };
}
