/**
 * Settings: the hub's settings form, the Python environment students' servers run in (with the
 * doctor's findings), how students join, and — in the desktop app — this computer's Lectern.
 */
import type { SettingsList } from '../api/types.js';
import { h } from '../dom.js';
import { fillPanel } from '../ui/panel.js';
import { environmentView } from './environment.js';
import { joinCodeView } from './join-code.js';
import type { Screen, ScreenContext } from './screen.js';
import { settingsForm } from './settings-form.js';

export function settingsScreen(ctx: ScreenContext): Screen {
  const { api } = ctx;
  const settingsPanel = h('div');
  const environmentPanel = h('div');
  const joinPanel = h('div');
  const desktop = window.lecternDesktop;
  const desktopPanel = h('div');

  const section = (id: string, title: string, panel: HTMLElement) =>
    h('section', { class: 'card', attrs: { 'aria-labelledby': id } }, h('h2', { id }, title), panel);
  const element = h(
    'section',
    { class: 'screen settings', attrs: { 'aria-labelledby': 'settings-title' } },
    h('h1', { id: 'settings-title', tabIndex: -1 }, 'Settings'),
    h(
      'div',
      { class: 'settings-grid' },
      section('settings-hub', 'Lectern', settingsPanel),
      h(
        'div',
        { class: 'stack' },
        section('settings-join', 'How students join', joinPanel),
        section('settings-python', 'Python for students’ servers', environmentPanel),
        desktop ? section('settings-desktop', 'This computer', desktopPanel) : null,
      ),
    ),
  );

  const loadEnvironment = (refresh: boolean) => void fillPanel(environmentPanel, 'The Python report', () => environmentView(api, refresh, loadEnvironment));
  const loadJoin = () => void fillPanel(joinPanel, 'The class code', () => joinCodeView(api, loadJoin));

  // The form and the Python report load once: coming back to the screen keeps unsaved edits, and
  // looking for Python again is a button, since it runs every interpreter on the machine.
  let loaded = false;
  return {
    title: 'Settings',
    element,
    show: () => {
      loadJoin();
      if (loaded) return;
      loaded = true;
      void fillPanel(settingsPanel, 'Changing settings here', async () => settingsForm(api, await api.get<SettingsList>('/lectern/settings')));
      loadEnvironment(false);
      if (desktop) {
        void fillPanel(desktopPanel, 'About this computer', async () => {
          const about = await desktop.about();
          return [
            h('p', null, `Lectern ${about.version} on ${about.platform}.`),
            h('button', { type: 'button', class: 'secondary', onclick: () => void desktop.openDataFolder() }, 'Open the data folder'),
            h('p', { class: 'hint' }, 'Students’ notebooks and the server logs are in this folder.'),
          ];
        });
      }
    },
    hide: () => {},
  };
}
