/* The settings page's Notifications section (push/templates/push/settings_section.html;
 * docs/mobile.md, Notifications). "Enable notifications" asks the browser's permission
 * only when it is clicked, never on load; then subscribes this browser's push manager with
 * the site's VAPID public key and hands the subscription to the server (which moves it to
 * whoever is signed in now, if someone else had it). On load the section only says whether
 * this browser is one of the devices listed. Its texts come translated from the template. */

const section = document.getElementById('sb-push');

/** The VAPID public key (base64url) as the bytes applicationServerKey takes. */
export function keyBytes(base64url) {
  const base64 = (base64url + '='.repeat((4 - (base64url.length % 4)) % 4)).replace(/-/g, '+').replace(/_/g, '/');
  return Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
}

function csrfToken() {
  const m = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  if (m) return decodeURIComponent(m[1]);
  const input = document.querySelector('input[name=csrfmiddlewaretoken]');
  return input ? input.value : '';
}

async function handOver(subscription) {
  const response = await fetch(section.dataset.subscriptionsUrl, {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'Content-Type': 'application/json', 'X-CSRFToken': csrfToken() },
    body: JSON.stringify(subscription.toJSON()),
  });
  if (!response.ok) throw new Error(`subscription refused: ${response.status}`);
}

function say(key) {
  section.querySelector('[data-push-status]').textContent = section.dataset[key] || '';
}

async function enable(button) {
  button.disabled = true;
  try {
    const permission = await Notification.requestPermission();
    if (permission !== 'granted') {
      say(permission === 'denied' ? 'textBlocked' : 'textDeclined');
      return;
    }
    const registration = await navigator.serviceWorker.ready;
    let subscription = await registration.pushManager.getSubscription();
    if (!subscription) {
      const answer = await fetch(section.dataset.keyUrl, { credentials: 'same-origin' });
      const { public_key: publicKey } = await answer.json();
      subscription = await registration.pushManager.subscribe({
        userVisibleOnly: true,
        applicationServerKey: keyBytes(publicKey),
      });
    }
    await handOver(subscription);
    location.reload(); // the device list shows this one
  } catch (error) {
    console.warn('Switchboard: could not subscribe to notifications', error);
    say('textFailed');
  } finally {
    button.disabled = false;
  }
}

async function setUp() {
  const button = section.querySelector('[data-push-enable]');
  const supported = 'serviceWorker' in navigator && 'PushManager' in window && 'Notification' in window;
  if (!supported) { say('textUnsupported'); return; }
  if (Notification.permission === 'denied') { say('textBlocked'); return; }
  button.hidden = false;
  button.addEventListener('click', () => enable(button));
  if (Notification.permission !== 'granted') return;
  const registration = await navigator.serviceWorker.getRegistration('/');
  const subscription = registration && (await registration.pushManager.getSubscription());
  if (!subscription) return;
  const answer = await fetch(section.dataset.subscriptionsUrl, { credentials: 'same-origin' });
  const mine = answer.ok ? await answer.json() : [];
  if (mine.some((device) => device.endpoint === subscription.endpoint)) {
    say('textOn');
    button.hidden = true;
  }
}

if (section) setUp();
