/**
 * Whether students are kept apart (`GET /hub/api/lectern/isolation`), in the teacher's words: on
 * the dashboard and the servers screen, so a teacher whose students' servers run without a sandbox
 * learns what that means and how to fix it before the lesson, not after.
 */
import type { HubApi } from '../api/client.js';
import type { Isolation, SandboxKind } from '../api/types.js';
import { h } from '../dom.js';

const SANDBOX_NAMES: Record<SandboxKind, string> = {
  bubblewrap: 'bubblewrap',
  'sandbox-exec': 'macOS’s sandbox',
};

export function sandboxName(sandbox: SandboxKind): string {
  return SANDBOX_NAMES[sandbox];
}

export async function isolationView(api: HubApi): Promise<HTMLElement> {
  const isolation = await api.get<Isolation>('/lectern/isolation');
  if (isolation.problem) return h('p', { class: ['problem', 'isolation'], attrs: { role: 'alert' } }, isolation.problem);
  if (isolation.warning) return h('p', { class: ['warning', 'isolation'], attrs: { role: 'alert' } }, isolation.warning);
  return h(
    'p',
    { class: ['ok', 'isolation'] },
    `Students are kept apart: each server runs in a sandbox (${sandboxName(isolation.sandbox ?? 'bubblewrap')}) that shows it only its student’s own folder.`,
  );
}

/** The isolation of one running server, for its row in a list. */
export function sandboxBadge(sandbox: SandboxKind | null): HTMLElement {
  return sandbox
    ? h('span', { class: ['badge', 'badge-isolated'], attrs: { title: `Runs in a sandbox (${sandboxName(sandbox)})` } }, 'Isolated')
    : h('span', { class: ['badge', 'badge-not-isolated'], attrs: { title: 'Runs without a sandbox: its student’s code can reach other students’ work and your files' } }, 'Not isolated');
}
