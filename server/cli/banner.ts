/**
 * What `lectern start` prints for the teacher: where students join (one URL per network, a QR code
 * for the first), the class join code when students sign up with one, and on the very first start
 * the teacher's own login. Printed to the terminal, not the log: the one-time password must never
 * land in a log file.
 */
import type { LecternConfig } from '../config/schema.js';
import type { RunningHub } from '../index.js';
import { lanAddresses } from '../lan/addresses.js';
import { joinUrls } from '../lan/join-url.js';
import { terminalQr } from '../lan/qr.js';

export async function printBanner(config: LecternConfig, hub: RunningHub): Promise<void> {
  const urls = joinUrls({
    bindIp: config.network.ip,
    port: hub.port,
    baseUrl: config.network.baseUrl,
    tls: config.network.tls !== undefined,
    addresses: lanAddresses(),
  });
  const lines = ['', 'Lectern is running.', ''];
  if (urls.length === 0) {
    lines.push(`  No network address found: students cannot join yet. This machine: ${hub.url}`);
  } else {
    lines.push('Students join at:');
    for (const join of urls) lines.push(`  ${join.url}   (${join.kind})`);
  }
  lines.push(`On this machine: ${hub.url}`);
  const joinCode = hub.joinCode();
  if (joinCode) {
    lines.push('', `Class join code: ${joinCode}   (new students type it at ${urls[0]?.url ?? hub.url}hub/join)`);
  }
  for (const account of hub.initialAccounts) {
    lines.push(
      '',
      `Your admin account: ${account.name}   password: ${account.password}`,
      'Write it down: it is shown only this once.',
    );
  }
  console.log(lines.join('\n'));
  const first = urls[0];
  if (first) console.log(`\n${await terminalQr(first.url)}`);
  console.log('Press Ctrl-C to stop every student server and the hub.\n');
}
