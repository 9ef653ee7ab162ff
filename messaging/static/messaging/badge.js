/* The app's badge (the Badging API, navigator.setAppBadge): the unread total on the
 * installed app's icon, where the browser shows one (Chrome and Edge on desktops, Safari
 * for a Home Screen app on iOS and iPadOS 16.4 and later, and on macOS); elsewhere nothing.
 * No DOM: tested with node --test. */

/** A function that shows `n` on the badge (none for 0), asking the browser only when the
 * number changes. `nav`: the navigator (a stand-in in tests). */
export function appBadge(nav) {
  let shown = null;
  return (n) => {
    n = Math.max(0, Math.floor(Number(n) || 0));
    if (n === shown) return;
    shown = n;
    if (!nav || typeof nav.setAppBadge !== 'function') return;
    try {
      const done = n > 0 || typeof nav.clearAppBadge !== 'function' ? nav.setAppBadge(n) : nav.clearAppBadge();
      // Refused where the app is not installed or the permission is missing: no badge then.
      if (done && typeof done.catch === 'function') done.catch(() => {});
    } catch (e) { /* the same */ }
  };
}

/** The page's badge. */
export const showBadge = appBadge(globalThis.navigator);
