/**
 * Reading QR codes back, as a phone would: from the SVG the hub draws (integration tests), or from
 * a screenshot of the rendered page (end-to-end tests). Both go through jsQR, an independent
 * decoder, so a test passes only if a real scanner could read the code.
 */
import jsQRModule from 'jsqr';
import { PNG } from 'pngjs';

// jsqr is CommonJS with an `exports.default`: from ESM, the default import is the module object.
const jsQR = jsQRModule.default;

/** Pixels per QR module when drawing an SVG's modules: jsQR wants more than one. */
const SCALE = 4;

/** Decodes a QR code drawn by the `qrcode` package as SVG (runs of dark modules in one path). */
export function decodeQrSvg(svg: string): string | null {
  const size = Number(/viewBox="0 0 (\d+) \d+"/.exec(svg)?.[1]);
  const path = /<path stroke="#000000" d="([^"]+)"/.exec(svg)?.[1];
  if (!size || !path) throw new Error(`not an SVG QR code from the qrcode package: ${svg.slice(0, 120)}`);
  const dark: boolean[] = new Array<boolean>(size * size).fill(false);
  let x = 0;
  let y = 0;
  // Commands: M x y (move to), m dx dy (move by), h n (n dark modules to the right, row y - 0.5).
  for (const [, command, a, b] of path.matchAll(/([Mmh])(-?[\d.]+)(?: (-?[\d.]+))?/g)) {
    if (command === 'M') [x, y] = [Number(a), Number(b)];
    else if (command === 'm') [x, y] = [x + Number(a), y + Number(b)];
    else {
      const row = Math.floor(y);
      for (let i = 0; i < Number(a); i++) dark[row * size + x + i] = true;
      x += Number(a);
    }
  }
  const width = size * SCALE;
  const pixels = new Uint8ClampedArray(width * width * 4).fill(255);
  for (let py = 0; py < width; py++) {
    for (let px = 0; px < width; px++) {
      if (!dark[Math.floor(py / SCALE) * size + Math.floor(px / SCALE)]) continue;
      const at = (py * width + px) * 4;
      pixels[at] = pixels[at + 1] = pixels[at + 2] = 0;
    }
  }
  return jsQR(pixels, width, width)?.data ?? null;
}

/** Decodes the QR code in a PNG image (a screenshot). */
export function decodeQrPng(png: Buffer): string | null {
  const image = PNG.sync.read(png);
  return jsQR(new Uint8ClampedArray(image.data.buffer, image.data.byteOffset, image.data.length), image.width, image.height)?.data ?? null;
}
