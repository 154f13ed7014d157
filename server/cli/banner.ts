/**
 * What `lectern start` prints for the teacher: where students join (one URL per network; first, and
 * as a QR code, the address chosen in the teacher dashboard, or else the likeliest), the class join
 * code when students sign up with one, the teacher dashboard, whether students are isolated from each other (and if not,
 * what that means and the fix), and on the very first start the teacher's own login. Printed
 * to the terminal, not the log: the one-time password must never land in a log file.
 */
import type { RunningHub } from '../index.js';
import { terminalQr } from '../lan/qr.js';

export async function printBanner(hub: RunningHub): Promise<void> {
  const { addresses, preferred, nameUrl } = hub.joinUrls();
  const urls = preferred ? [preferred, ...addresses.filter((entry) => entry !== preferred)] : addresses;
  const lines = ['', 'Lectern is running.', ''];
  if (urls.length === 0) {
    lines.push(`  No network address found: students cannot join yet. This machine: ${hub.url}`);
  } else {
    lines.push('Students join at:');
    for (const join of urls) lines.push(`  ${join.url}   (${join.kind})`);
    if (nameUrl) lines.push(`  ${nameUrl}   (this computer's name, where the network knows .local names: it stays when the address changes)`);
  }
  lines.push(`Teacher dashboard: ${hub.url}hub/admin   (on this machine; log in as a teacher)`);
  const joinCode = hub.joinCode();
  if (joinCode) {
    lines.push('', `Class join code: ${joinCode}   (new students type it at ${preferred?.url ?? hub.url}hub/join)`);
  }
  const isolation = await hub.isolation();
  if (isolation.problem) lines.push('', `PROBLEM: ${isolation.problem}`);
  else if (isolation.warning) lines.push('', `WARNING: ${isolation.warning}`);
  else lines.push('', `Students are isolated: each server runs in a ${isolation.sandbox ?? ''} sandbox.`);
  for (const account of hub.initialAccounts) {
    lines.push(
      '',
      `Your admin account: ${account.name}   password: ${account.password}`,
      'Write it down: it is shown only this once.',
    );
  }
  console.log(lines.join('\n'));
  if (preferred) console.log(`\n${await terminalQr(preferred.url)}`);
  console.log('Press Ctrl-C to stop every student server and the hub.\n');
}
