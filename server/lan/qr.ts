/**
 * QR codes of the join URL: in the terminal for headless `lectern start`, as SVG for pages and the
 * teacher's dashboard (SVG scales to a projector without blurring).
 */
import QRCode from 'qrcode';

/**
 * The QR code as terminal text, two modules per character cell so it fits an 80×24 terminal. It
 * draws with ANSI colours (dark on light), so phones read it on dark-themed terminals too.
 */
export function terminalQr(url: string): Promise<string> {
  return QRCode.toString(url, { type: 'terminal', small: true });
}

/** The QR code as a standalone SVG document with a quiet zone, black on white. */
export function qrSvg(url: string): Promise<string> {
  // Error correction M is the library default; said here so a change of default cannot shrink margins
  // for damage (a smudged projector screen, a phone at an angle).
  return QRCode.toString(url, { type: 'svg', errorCorrectionLevel: 'M', margin: 4 });
}
