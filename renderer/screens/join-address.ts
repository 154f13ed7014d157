/**
 * Which of the machine's addresses students should use. A laptop often has several (Wi-Fi,
 * a network cable, a VPN) and only the teacher knows which one the class is on, so the choice is
 * theirs, and the hub remembers it (`PUT /hub/api/lectern/join-urls/preferred`).
 */
import { errorMessage, type HubApi } from '../api/client.js';
import type { AddressKind, JoinAddress, JoinUrls } from '../api/types.js';
import { h, uniqueId, type Child } from '../dom.js';
import { notify, notifyError } from '../ui/notices.js';

const KIND_LABELS: Record<AddressKind, string> = {
  wifi: 'Wi-Fi',
  ethernet: 'Network cable',
  vpn: 'VPN',
  other: 'Network',
  loopback: 'This computer only',
};

/** The teacher's choice, else the hub's suggestion, else the first address. */
export function chooseAddress(urls: JoinUrls): JoinAddress | undefined {
  return (
    urls.addresses.find((candidate) => candidate.preferred) ??
    urls.addresses.find((candidate) => candidate.address === urls.preferred) ??
    urls.addresses[0]
  );
}

/** "Wi-Fi · 192.168.1.20 (wlan0)". */
export function addressLabel(address: JoinAddress): string {
  const label = `${KIND_LABELS[address.kind] ?? KIND_LABELS.other} · ${address.address}`;
  return address.interfaceName ? `${label} (${address.interfaceName})` : label;
}

/** A labelled menu of the addresses; choosing one saves it and shows its join URL. */
export function networkPicker(api: HubApi, urls: JoinUrls, chosen: JoinAddress, reload: () => void): HTMLElement {
  const id = uniqueId('network');
  const hintId = uniqueId('network-hint');
  const select = h(
    'select',
    { id, attrs: { 'aria-describedby': hintId } },
    urls.addresses.map((address) => h('option', { value: address.address, selected: address === chosen }, addressLabel(address))),
  );
  select.onchange = async () => {
    select.disabled = true;
    try {
      await api.put('/lectern/join-urls/preferred', { address: select.value });
      notify('Students now see the address for this network.');
    } catch (error) {
      notifyError(`The network could not be changed: ${errorMessage(error)}`);
    }
    reload();
  };
  return h(
    'div',
    { class: 'field network-picker' },
    h('label', { htmlFor: id }, 'Classroom network'),
    select,
    h(
      'p',
      { class: 'hint', id: hintId },
      chosen.kind === 'vpn'
        ? 'This is a VPN: students are rarely on it. Choose the network the class uses.'
        : 'This computer is on several networks: choose the one the students are on.',
    ),
  );
}

/**
 * A URL that wraps only after its scheme: `http://` / `192.168.1.20:8000/`. The host and port stay
 * on one line, sized to fit it (`--chars` lets the stylesheet scale the type to the line's length),
 * since an address split before its port is read as two.
 */
export function breakableUrl(url: string): Child[] {
  const match = /^(\w+:\/\/)(.*)$/.exec(url);
  if (!match) return [url];
  const [, scheme = '', rest = ''] = match;
  const unbroken = h('span', { class: 'url-host' }, rest);
  unbroken.style.setProperty('--chars', String(rest.length));
  return [scheme, h('wbr'), unbroken];
}

/** The hub's QR code as an image source: an `<img>` scales the SVG crisply and runs nothing in it. */
export function svgDataUrl(svg: string): string {
  return `data:image/svg+xml;charset=utf-8,${encodeURIComponent(svg)}`;
}
