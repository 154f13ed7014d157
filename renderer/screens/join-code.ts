/**
 * How students get an account: the login mode, and in join-code mode the class code they type at
 * the sign-up page, which the teacher can replace (`POST /hub/api/lectern/join/code`) when it has
 * spread beyond the class.
 */
import { errorMessage, type HubApi } from '../api/client.js';
import type { JoinState } from '../api/types.js';
import { h, type Child } from '../dom.js';
import { confirmAction } from '../ui/dialog.js';
import { notify, notifyError } from '../ui/notices.js';

export async function joinCodeView(api: HubApi, reload: () => void): Promise<Child[]> {
  const join = await api.get<JoinState>('/lectern/join');
  if (join.mode !== 'join-code') {
    return [
      h(
        'p',
        null,
        join.mode === 'first-use'
          ? 'Students log in with the names you listed; the first password each types becomes theirs.'
          : 'Students log in with accounts you make.',
      ),
      h('p', { class: 'hint' }, 'To let them sign up with a class code instead, choose “They sign up with the class code” under “How students get in”, and restart Lectern.'),
    ];
  }
  const replace = async () => {
    const confirmed = await confirmAction({
      title: 'Replace the class code?',
      message: 'The current code stops working at once. Students who already have an account keep it.',
      confirm: 'Make a new code',
    });
    if (!confirmed) return;
    try {
      const next = await api.post<JoinState>('/lectern/join/code');
      notify(`The new class code is ${next.code ?? ''}.`);
    } catch (error) {
      notifyError(`The code was not replaced: ${errorMessage(error)}`);
    }
    reload();
  };
  return [
    h('p', { class: 'join-code' }, 'Class code: ', h('strong', null, join.code ?? '—')),
    h(
      'p',
      { class: 'hint' },
      join.approval ? 'New sign-ups wait until you let them in (on the Users screen).' : 'Anyone with the code can make an account.',
    ),
    h('button', { type: 'button', class: 'secondary', onclick: () => void replace() }, 'Make a new code'),
  ];
}
