/**
 * Escaping for text that comes from the DBS API (task names, error
 * messages) and lands in Slack mrkdwn, HTML or a mail header. Everything here
 * is pure and total: any string in, a safe string out.
 */

// C0/C1 controls except TAB/LF, DEL, and the bidi overrides that can make a
// name read differently from what it is ("Trojan Source").
const CONTROL = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069]/g;
const ANY_CONTROL = /[\u0000-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069]/g;

/** Removes control characters, keeping tabs and line feeds (CR is dropped, CRLF becomes LF). */
export function stripControl(text: string): string {
  return text.replace(/\r\n?/g, '\n').replace(CONTROL, '');
}

/** One line: every control character (CR, LF and tab included) becomes a space, runs collapse. */
export function oneLine(text: string): string {
  return text.replace(ANY_CONTROL, ' ').replace(/ {2,}/g, ' ').trim();
}

/**
 * Slack mrkdwn escaping: exactly `&`, `<`, `>` as Slack documents it. This
 * is what turns `<!channel>` and `<https://evil|click>` into inert text.
 */
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** HTML escaping, safe for element content and double- or single-quoted attributes. */
export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

/**
 * Cuts a text to at most `max` UTF-16 code units, ending with `…` when cut,
 * never splitting a surrogate pair.
 */
export function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  if (max <= 1) return max === 1 ? '…' : '';
  let cut = max - 1;
  const code = text.charCodeAt(cut - 1);
  if (code >= 0xd800 && code <= 0xdbff) cut -= 1; // would leave half a surrogate pair
  return `${text.slice(0, cut)}…`;
}

/**
 * Cuts already-escaped text without leaving half an entity (`&am…`) behind:
 * a dangling `&…` at the cut is dropped whole.
 */
export function truncateEscaped(escaped: string, max: number): string {
  if (escaped.length <= max) return escaped;
  const cut = truncate(escaped, max);
  const body = cut.slice(0, -1);
  const partial = /&[a-z#0-9]*$/i.exec(body);
  return partial ? `${body.slice(0, partial.index)}…` : cut;
}

/** Zero-width space: Slack reads it as a word boundary, so it can sit on both sides of a delimiter. */
export const ZWSP = '\u200B';

/**
 * Makes Slack's formatting delimiters (`*bold*`, `_italic_`, `~strike~`, `` `code` ``) inert:
 * each one gets a zero-width space on both sides, so it can neither open (it is followed by a
 * boundary) nor close (it is preceded by one) an emphasis or a code span. Slack has no escape for
 * them; the text still reads the same (the marks stay visible), and copy-paste keeps the
 * characters (plus invisible spaces).
 */
export function inertFormatting(text: string): string {
  return text.replace(/[*_~`]/g, (c) => `${ZWSP}${c}${ZWSP}`);
}

/** API text for mrkdwn: controls removed, escaped (`& < >` and formatting), cut to `max` (of the escaped form). */
export function mrkdwnText(text: string, max: number, options: { multiline?: boolean } = {}): string {
  const clean = options.multiline ? stripControl(text) : oneLine(text);
  // A cut between a mark and its trailing zero-width space would leave a live opener before the `…`.
  return truncateEscaped(inertFormatting(escapeMrkdwn(clean)), max).replace(/\u200B[*_~`]…$/, '…');
}

/** API text for HTML: controls removed, cut to `max` characters (of the raw text), then escaped. */
export function htmlText(text: string, max: number, options: { multiline?: boolean } = {}): string {
  const clean = options.multiline ? stripControl(text) : oneLine(text);
  return escapeHtml(truncate(clean, max));
}

/**
 * The URL if (and only if) it is a well-formed http(s) URL, in its
 * canonical form; anything else (`javascript:`, `data:`, garbage) is not a
 * link and comes back `undefined`.
 */
export function safeHttpUrl(value: string | undefined): string | undefined {
  if (!value) return undefined;
  let url: URL;
  try {
    url = new URL(value.trim());
  } catch {
    return undefined;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return undefined;
  if (!url.hostname) return undefined;
  return url.href;
}

/**
 * A URL for a Slack `<url|label>` link: `|` and `>` would end the link early
 * and `&` must be entity-escaped like everywhere else in mrkdwn.
 */
export function slackLinkUrl(url: string): string {
  return url.replace(/\|/g, '%7C').replace(/</g, '%3C').replace(/>/g, '%3E').replace(/&/g, '&amp;');
}

// ---------------------------------------------------------------------------
// Chat markdown (DingTalk, WeCom, Feishu lark_md, Adaptive Card text). Each renders a subset of markdown
// plus, for the first three, a little HTML (`<font>`, `<at>`, `<@userid>` mentions). API text must stay
// text: no emphasis, no link, no mention, no tag.

/** Length of a string in UTF-8 bytes (the unit WeCom and Feishu limit). */
export function utf8Bytes(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

/** Cuts text to at most `maxBytes` UTF-8 bytes, ending with `…` when cut, never splitting a character. */
export function truncateBytes(text: string, maxBytes: number): string {
  if (utf8Bytes(text) <= maxBytes) return text;
  const budget = maxBytes - 3; // the ellipsis is 3 bytes
  let bytes = 0;
  let out = '';
  for (const char of text) {
    const size = utf8Bytes(char);
    if (bytes + size > budget) break;
    bytes += size;
    out += char;
  }
  return budget > 0 ? `${out}…` : '';
}

/**
 * `https://x` in API text → `https:\u200B//x`: a zero-width space that chat clients' autolinkers stop at,
 * so a URL in a task name or error message is shown, never clickable.
 */
export function breakAutolinks(text: string): string {
  return text.replace(/:\/\//g, ':\u200B//').replace(/\bwww\./gi, (m) => `${m.slice(0, 3)}\u200B.`);
}

/**
 * Markdown of DingTalk / WeCom / Feishu `lark_md`: all three render HTML-ish
 * markup (`<font>`, `<at>`, `<@userid>`), so `& < >` become entities (no tag,
 * no mention) and so does the punctuation that makes emphasis, code or a link
 * (`&#42;` for `*` — the escape Feishu's card docs give; one mechanism rather
 * than also betting on backslash escapes). Autolinks are broken; we never
 * start a line with API text, so `#` and `>` cannot start a heading or quote.
 * Controls go (tabs and line breaks too unless `multiline`). Cut to `max`
 * characters of the raw text first, so an escape is never cut.
 */
export function chatMarkdownText(text: string, max: number, options: { multiline?: boolean } = {}): string {
  const clean = truncate(options.multiline ? stripControl(text).replace(/\t/g, ' ') : oneLine(text), max);
  return breakAutolinks(clean)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/[\\`*_~[\]]/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * Adaptive Card TextBlock / FactSet text: Teams renders a markdown subset and ignores HTML, so emphasis,
 * code and link punctuation (and `<`, `>`) are backslash-escaped and autolinks broken. Cut to `max` raw characters first.
 */
export function adaptiveText(text: string, max: number, options: { multiline?: boolean } = {}): string {
  const clean = truncate(options.multiline ? stripControl(text).replace(/\t/g, ' ') : oneLine(text), max);
  return breakAutolinks(clean).replace(/([\\`*_~[\]<>])/g, '\\$1');
}

/** A URL inside markdown `[label](url)`: parentheses and spaces would end it early. */
export function markdownLinkUrl(url: string): string {
  return url.replace(/\(/g, '%28').replace(/\)/g, '%29').replace(/ /g, '%20');
}
