/** JSON models in JupyterHub 3.0's shapes (reference §4: user model, server model). */
import { rolesFor } from '../../rbac/roles.js';
import type { UserRecord } from '../../store/users.js';
import type { HubContext } from '../context.js';

export function serverModel(ctx: HubContext, user: UserRecord, name = '') {
  const view = ctx.servers.view(user, name);
  const ready = view.phase === 'running';
  return {
    name,
    last_activity: ctx.serverRecords.find(user.id, name)?.lastActivity ?? null,
    started: view.started,
    pending: pendingOf(view.phase),
    ready,
    stopped: view.phase === 'stopped',
    url: ctx.urls.server(user.name, name),
    user_options: {},
    progress_url: ctx.urls.progress(user.name, name),
  };
}

export function userModel(ctx: HubContext, user: UserRecord) {
  const view = ctx.servers.view(user);
  const active = view.phase !== 'stopped';
  return {
    kind: 'user' as const,
    name: user.name,
    admin: user.admin,
    roles: rolesFor(user),
    groups: [] as string[],
    server: view.phase === 'running' ? ctx.urls.server(user.name) : null,
    pending: pendingOf(view.phase),
    created: user.created,
    last_activity: user.lastActivity,
    servers: active ? { '': serverModel(ctx, user) } : {},
  };
}

function pendingOf(phase: string): 'spawn' | 'stop' | null {
  return phase === 'spawning' ? 'spawn' : phase === 'stopping' ? 'stop' : null;
}
