/** @module logs/terminal: whether to colour output, and the ANSI palette when we do. */

/** Colour functions; all identity when colour is off. */
export interface Palette {
  red(text: string): string;
  yellow(text: string): string;
  green(text: string): string;
  cyan(text: string): string;
  dim(text: string): string;
  bold(text: string): string;
}

export const plainPalette: Palette = {
  red: (t) => t, yellow: (t) => t, green: (t) => t, cyan: (t) => t, dim: (t) => t, bold: (t) => t,
};

interface Stream {
  isTTY?: boolean;
}

/** Colour only on a terminal, never with NO_COLOR or TERM=dumb; FORCE_COLOR forces it on. */
export function colorEnabled(stream: Stream, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== "") return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== "0" && env.FORCE_COLOR !== "") return true;
  if (env.TERM === "dumb") return false;
  return stream.isTTY === true;
}

const wrap = (open: number, close: number) => (text: string) => `\u001b[${open}m${text}\u001b[${close}m`;

export const ansiPalette: Palette = {
  red: wrap(31, 39),
  yellow: wrap(33, 39),
  green: wrap(32, 39),
  cyan: wrap(36, 39),
  dim: wrap(2, 22),
  bold: wrap(1, 22),
};

export function paletteFor(stream: Stream, env: NodeJS.ProcessEnv = process.env): Palette {
  return colorEnabled(stream, env) ? ansiPalette : plainPalette;
}
