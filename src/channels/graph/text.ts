const ellipsis = '…';

/**
 * Cuts `text` to at most `max` UTF-16 units, ending with an ellipsis when cut, never
 * through a surrogate pair.
 * @example truncate('Linen shirt, size M, white', 20) // 'Linen shirt, size M…'
 */
export function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  return `${text.slice(0, safeCut(text, max - ellipsis.length)).trimEnd()}${ellipsis}`;
}

/**
 * Splits `text` into pieces of at most `max` UTF-16 units, at the last line break or space
 * before the limit (a word longer than the limit is cut, never through a surrogate pair).
 * @example splitText('one two three', 8) // ['one two', 'three']
 */
export function splitText(text: string, max: number): string[] {
  const pieces: string[] = [];
  let rest = text;
  while (rest.length > max) {
    const window = rest.slice(0, max + 1);
    let cut = Math.max(window.lastIndexOf('\n'), window.lastIndexOf(' '));
    if (cut <= 0) cut = safeCut(rest, max);
    const piece = rest.slice(0, cut).trimEnd();
    if (piece.length > 0) pieces.push(piece);
    rest = rest.slice(cut).trimStart();
  }
  if (rest.length > 0 || pieces.length === 0) pieces.push(rest);
  return pieces;
}

function safeCut(text: string, at: number): number {
  const code = text.charCodeAt(at - 1);
  return code >= 0xd800 && code <= 0xdbff ? at - 1 : at;
}
