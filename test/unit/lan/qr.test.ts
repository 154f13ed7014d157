import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import QRCode from 'qrcode';
import { qrSvg, terminalQr } from '../../../server/lan/qr.js';

const JOIN_URL = 'http://192.168.1.20:8000/';

/** Reads the dark modules back out of the half-block drawing: each text row holds two module rows. */
function decodeTerminal(text: string, size: number): boolean[] {
  // eslint-disable-next-line no-control-regex
  const rows = text.replace(/\u001b\[[0-9;]*m/g, '').split('\n');
  const dark: boolean[] = new Array<boolean>(size * size).fill(false);
  rows.forEach((row, index) => {
    const chars = [...row];
    for (const [y, darkChars] of [[2 * index - 1, '█▀'], [2 * index, '█▄']] as const) {
      if (y < 0 || y >= size) continue;
      for (let x = 0; x < size; x++) dark[y * size + x] = darkChars.includes(chars[x + 1] ?? ' ');
    }
  });
  return dark;
}

describe('terminalQr', () => {
  it('draws the QR code of the URL', async () => {
    const text = await terminalQr(JOIN_URL);
    assert.ok(text.trim().length > 0);
    const symbol = QRCode.create(JOIN_URL, { errorCorrectionLevel: 'M' });
    const size = symbol.modules.size;
    const expected = Array.from({ length: size * size }, (_, i) => symbol.modules.data[i] === 1);
    assert.deepEqual(decodeTerminal(text, size), expected);
  });

  it('is stable for a JOIN_URL and differs between URLs', async () => {
    assert.equal(await terminalQr(JOIN_URL), await terminalQr(JOIN_URL));
    assert.notEqual(await terminalQr(JOIN_URL), await terminalQr('http://192.168.1.21:8000/'));
  });

  it('fits a narrow terminal', async () => {
    const widths = (await terminalQr(JOIN_URL))
      // eslint-disable-next-line no-control-regex
      .replace(/\u001b\[[0-9;]*m/g, '')
      .split('\n')
      .map((row) => [...row].length);
    assert.ok(Math.max(...widths) <= 40, `too wide: ${Math.max(...widths)}`);
  });
});

describe('qrSvg', () => {
  it('is a standalone SVG sized for the symbol plus its quiet zone', async () => {
    const svg = await qrSvg(JOIN_URL);
    const size = QRCode.create(JOIN_URL, { errorCorrectionLevel: 'M' }).modules.size;
    assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    assert.ok(svg.includes(`viewBox="0 0 ${size + 8} ${size + 8}"`), svg.slice(0, 120));
    assert.equal(svg, await qrSvg(JOIN_URL));
  });
});
