/* The on-screen keyboard of a phone (docs/mobile.md, The phone layout).
 *
 * Where the browser resizes the page for the keyboard (the viewport's
 * interactive-widget=resizes-content: Chrome and Firefox on Android), the chat's height of
 * 100dvh ends above it by itself. Safari on iOS only shrinks the visual viewport and scrolls
 * the page under it: there the chat takes the visual viewport's height (--sb-viewport-height,
 * chat.css) and the page is kept at its top, so that the conversation's header and its
 * composer both stay in sight. */

// The phone layout's width: switchboard.css and chat.css.
const PHONE = '(max-width: 640px)';
// Less than this hidden by the visual viewport is a toolbar, not a keyboard.
const KEYBOARD_MIN = 120;

/** The height the chat should take, or null for its own (100dvh): pure, for the tests. */
export function keyboardFit({ phone, innerHeight, height, scale }) {
  if (!phone || Math.abs((scale || 1) - 1) > 0.01) return null; // zoomed in: the page stays as it is
  return innerHeight - height >= KEYBOARD_MIN ? Math.round(height) : null;
}

export function bindViewport() {
  const vv = window.visualViewport;
  if (!vv) return;
  const phone = window.matchMedia(PHONE);
  const root = document.documentElement;
  const fit = () => {
    const height = keyboardFit({ phone: phone.matches, innerHeight: window.innerHeight, height: vv.height, scale: vv.scale });
    if (height === null) {
      root.style.removeProperty('--sb-viewport-height');
      return;
    }
    root.style.setProperty('--sb-viewport-height', `${height}px`);
    if (window.scrollY > 0) window.scrollTo(0, 0);
  };
  vv.addEventListener('resize', fit);
  vv.addEventListener('scroll', fit);
  phone.addEventListener('change', fit);
  fit();
}
