/* The chat's event bus. Every server frame is dispatched twice, as 'frame' and under its
 * own type ('message', 'hello', 'signal', …); the chat adds 'conversation-open' and
 * 'transport', the P2P transport its 'p2p-file-*' events. */

export const events = new EventTarget();

export function emit(type, detail) {
  events.dispatchEvent(new CustomEvent(type, { detail }));
}
