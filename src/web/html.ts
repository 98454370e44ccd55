/**
 * An auto-escaping HTML tagged template: every value interpolated into
 * html`…` is text and is escaped, unless it is already `Html` — a nested
 * html`…` or an explicit `raw(…)`. The page therefore cannot forget to
 * escape: forgetting is the safe default, and unescaped output has to be
 * asked for by name.
 *
 * Escaping covers element content and double-quoted attribute values (the
 * only attribute form the page writes); line breaks in a value become
 * spaces and control characters are dropped, so hostile text stays on one
 * line. Never put a value into
 * an unquoted attribute, a `<script>`/`<style>` body or a URL attribute.
 * Values are not trimmed: cut or normalise text (`oneLine`) before.
 */
import { escapeHtml, stripControl } from '../text/escape.js';

/**
 * Markup that is already safe. Make it with `html` or `raw` only; data from
 * outside (JSON, Redis) can never be an `Html`, since it is a class instance.
 */
export class Html {
  readonly #markup: string;
  constructor(markup: string) {
    this.#markup = markup;
  }
  toString(): string {
    return this.#markup;
  }
}

/**
 * What may be interpolated: text and numbers (escaped), `Html` (as is),
 * arrays of these (concatenated, each element by the same rules), and
 * `null` / `undefined` / `false` (nothing, so `${cond && html`…`}` works).
 * Objects and `true` are not accepted, so `${someObject}` is a type error
 * rather than `[object Object]`. Conditions should be booleans: `${n && …}`
 * with `n === 0` prints `0`.
 */
export type HtmlValue = Html | string | number | null | undefined | false | readonly HtmlValue[];

/**
 * Escapes text for element content and double-quoted attributes. Control
 * and bidi-override characters are dropped, line breaks and tabs become
 * spaces; nothing is trimmed (a value may be a deliberate `' bad'`).
 */
export function escapeText(text: string | number): string {
  return escapeHtml(stripControl(String(text)).replace(/[\n\t]/g, ' '));
}

function render(value: HtmlValue): string {
  if (value instanceof Html) return value.toString();
  if (value === null || value === undefined || value === false) return '';
  if (Array.isArray(value)) return value.map(render).join('');
  return escapeText(value as string | number);
}

/** The tagged template: literal parts as written, every value escaped unless it is `Html`. */
export function html(strings: TemplateStringsArray, ...values: readonly HtmlValue[]): Html {
  let out = strings[0] ?? '';
  values.forEach((value, i) => {
    out += render(value) + (strings[i + 1] ?? '');
  });
  return new Html(out);
}

/**
 * The explicit opt-out: `markup` is inserted without escaping. Only for
 * markup the code itself wrote (never text from Redis, the API or a request).
 */
export function raw(markup: string): Html {
  return new Html(markup);
}

/** `values` rendered by the template's rules and joined by `separator` (text separators are escaped too). */
export function join(values: readonly HtmlValue[], separator: HtmlValue): Html {
  const sep = render(separator);
  return new Html(values.map(render).join(sep));
}
