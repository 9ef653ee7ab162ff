/* Translated strings, from Django's JavaScript catalogue (/jsi18n/, loaded before the
 * modules). Source strings are English; `manage.py makemessages -d djangojs` collects the
 * gettext() calls of these modules into locale/<lang>/LC_MESSAGES/djangojs.po.
 *
 * Without the catalogue (in node --test) every function returns the English text. */

const catalogue = () => globalThis.django || null;

/** Fill named placeholders: fill('{name} is typing…', {name: 'Bob'}). */
export function fill(text, vars) {
  return vars ? String(text).replace(/\{(\w+)\}/g, (m, k) => (k in vars ? String(vars[k]) : m)) : String(text);
}

export function gettext(msgid) {
  const c = catalogue();
  return c ? c.gettext(msgid) : msgid;
}

export function ngettext(singular, plural, count) {
  const c = catalogue();
  return c ? c.ngettext(singular, plural, count) : (count === 1 ? singular : plural);
}

export function pgettext(context, msgid) {
  const c = catalogue();
  return c ? c.pgettext(context, msgid) : msgid;
}

/** The page's language (the <html lang>), for dates and numbers. */
export const LANG = (globalThis.document && globalThis.document.documentElement.lang) || undefined;
