/**
 * Which Python runs the students' servers, and what the doctor found (`GET /hub/api/lectern/doctor`):
 * the same report as `lectern doctor`, for the teacher who never opens a terminal.
 */
import type { HubApi } from '../api/client.js';
import type { DoctorEnvironment, DoctorReport } from '../api/types.js';
import { h, type Child } from '../dom.js';

const MODE_NAMES: Record<string, string> = {
  singleuser: 'jupyterhub-singleuser',
  lab: 'JupyterLab',
  notebook: 'Jupyter Notebook',
  server: 'Jupyter Server',
};

function modeName(mode: string): string {
  return MODE_NAMES[mode] ?? mode;
}

/** Loads the report (`refresh`: look for environments again) and shows it, with a "Look again" button. */
export async function environmentView(api: HubApi, refresh: boolean, reload: (refresh: boolean) => void): Promise<Child[]> {
  const report = await api.get<DoctorReport>(`/lectern/doctor${refresh ? '?refresh=true' : ''}`);
  const { plan, reason, problem } = report.launch;
  return [
    plan
      ? h(
          'p',
          { class: 'ok' },
          `Students’ servers start with ${modeName(plan.mode)}`,
          plan.environment ? ` from ${plan.environment.path}${plan.environment.pythonVersion ? ` (Python ${plan.environment.pythonVersion})` : ''}` : '',
          '.',
        )
      : h('p', { class: 'problem', attrs: { role: 'alert' } }, problem ?? 'Students’ servers cannot start: no usable Python environment was found.'),
    h('p', { class: 'hint' }, reason),
    findings('Needs fixing', report.problems, 'problem'),
    findings('Worth knowing', report.warnings, 'warning'),
    h(
      'details',
      { class: 'environments' },
      h('summary', null, `Python environments found on this computer (${report.environments.length})`),
      report.environments.length === 0 ? h('p', null, 'None.') : h('ul', null, report.environments.map(environmentItem)),
    ),
    h('button', { type: 'button', class: 'secondary', onclick: () => reload(true) }, 'Look for Python again'),
  ];
}

function findings(title: string, items: string[], kind: 'problem' | 'warning'): HTMLElement | null {
  if (items.length === 0) return null;
  return h('div', { class: ['findings', `findings-${kind}`] }, h('h3', null, title), h('ul', null, items.map((item) => h('li', null, item))));
}

function environmentItem(environment: DoctorEnvironment): HTMLElement {
  return h(
    'li',
    null,
    h('strong', null, environment.path),
    environment.pythonVersion ? ` · Python ${environment.pythonVersion}` : ' · Python could not be run',
    h('br'),
    environment.modes.length > 0 ? `Can run: ${environment.modes.map(modeName).join(', ')}.` : 'Cannot run a student’s server.',
    environment.problems.length > 0 ? h('ul', { class: 'hint' }, environment.problems.map((problem) => h('li', null, problem))) : null,
  );
}
