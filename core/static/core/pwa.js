/* The installable app (docs/mobile.md), on every page of base.html:
 *
 * - registers the service worker, /sw.js (core.views.service_worker), which keeps the
 *   static files and the offline page;
 * - shows the top bar's "Install app" button while the browser offers to install the app
 *   (Chrome and Edge fire beforeinstallprompt; Safari has Share → Add to Home Screen and
 *   never shows it), and hides it once the app is installed;
 * - on the offline page, opens the page that was asked for again when the server answers;
 * - on a page for no one signed in (the sign-in page after signing out, or once the
 *   session ended), deletes what the chat kept on this device to work offline: its
 *   IndexedDB database (messaging/static/messaging/store.js), the chat page the service
 *   worker keeps (core/templates/core/sw.js), and the app's badge.
 */

if ('serviceWorker' in navigator) {
  // updateViaCache 'none': the browser always asks the server whether /sw.js changed.
  navigator.serviceWorker.register('/sw.js', { scope: '/', updateViaCache: 'none' }).catch((error) => {
    console.warn('Switchboard: the service worker could not be registered', error);
  });
  // A page that was loading while the worker took over is not among the pages it claimed:
  // it asks to be claimed, so that it too is answered offline.
  navigator.serviceWorker.ready.then((registration) => {
    if (!navigator.serviceWorker.controller && registration.active) registration.active.postMessage('claim');
  });
}

const installButton = document.getElementById('sb-install');
let offer = null; // the browser's beforeinstallprompt event, while it stands

window.addEventListener('beforeinstallprompt', (event) => {
  // The button asks instead of the browser's own banner.
  event.preventDefault();
  offer = event;
  if (installButton) installButton.hidden = false;
});

window.addEventListener('appinstalled', () => {
  offer = null;
  if (installButton) installButton.hidden = true;
});

if (installButton) {
  installButton.addEventListener('click', () => {
    if (!offer) return;
    // An offer prompts once; after a "no" the browser makes a new one on a later visit.
    offer.prompt();
    offer = null;
    installButton.hidden = true;
  });
}

if (document.body && document.body.classList.contains('offline')) {
  // Back online, open the page asked for again once the server answers: the browser may
  // say it is online a moment before requests get through, and a reload then would only
  // show this page again.
  const reopen = async () => {
    if (!navigator.onLine) return;
    try {
      await fetch(location.href, { method: 'HEAD', cache: 'no-store', credentials: 'same-origin' });
    } catch (error) {
      return; // not yet: the next try or the next online event
    }
    location.reload();
  };
  window.addEventListener('online', reopen);
  setInterval(reopen, 3000);
}

const signedIn = document.querySelector('meta[name="switchboard-user"]');
if (signedIn && signedIn.content === '') {
  try {
    if (window.indexedDB) indexedDB.deleteDatabase('switchboard');
  } catch (error) { /* storage refused: nothing was kept */ }
  if (window.caches) caches.delete('switchboard-pages').catch(() => {});
  if (navigator.clearAppBadge) navigator.clearAppBadge().catch(() => {});
}
