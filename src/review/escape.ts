/** Escaping for the review page: dataset text is untrusted and must show as text. */

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Text for HTML element content and quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => HTML_ESCAPES[char] ?? char);
}

/**
 * JSON to embed in `<script type="application/json">`: `<`, `>` and `&` only
 * occur inside JSON strings, where `\u003c`-style escapes mean the same
 * characters, so `</script>` or `<!--` in the data cannot end or bend the
 * script element. U+2028/U+2029 are escaped for older parsers.
 */
export function embedJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}
