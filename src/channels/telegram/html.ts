/**
 * Text for Telegram's HTML parse mode (channels.md A.4): every `&`, `<` and `>` that is not
 * markup is written as an entity. Inside an attribute (`href="…"`) `"` is escaped as well.
 * @example escapeHtml('Tea & <Coffee>') // 'Tea &amp; &lt;Coffee&gt;'
 */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>]/g, (char) => (char === '&' ? '&amp;' : char === '<' ? '&lt;' : '&gt;'));
}

/**
 * A value for a double-quoted HTML attribute.
 * @example escapeHtmlAttribute('https://x.test/?a=1&b="2"') // 'https://x.test/?a=1&amp;b=&quot;2&quot;'
 */
export function escapeHtmlAttribute(text: string): string {
  return escapeHtml(text).replace(/"/g, '&quot;');
}

/**
 * Plain text cut to at most `max` UTF-16 units (Telegram counts the text after entity
 * parsing), ending with an ellipsis when cut; a surrogate pair is never split.
 * @example truncate('abcdef', 4) // 'abc…'
 */
export function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  let end = max - 1;
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end--;
  return `${text.slice(0, end)}…`;
}
