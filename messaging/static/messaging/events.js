/* The chat's event bus: how a module tells the ones above it that something changed,
 * without importing them (the modules import downwards only).
 *
 *   frame, and each frame's type ('message', 'hello', 'signal', …)   socket.js, for every
 *                                         server frame; office apps listen to these
 *   conversations-changed                 state.js changed(): the sidebar renders again
 *   conversation-open {id, peer}          the composer takes its draft, the sidebar marks
 *   conversation-close {id}               it, p2p offers a data channel / keeps the draft
 *   presence-changed                      presence.js: dots and the header
 *   transport {user, state}               p2p.js: a data channel opened or closed
 *   message-retry, message-discard        the buttons under a failed message (send.js)
 *   message-reedit                        its Edit button: the composer takes the text back
 *   signed-out                            socket.js: the session ended; offline.js forgets
 *                                         what it kept
 *   p2p-file-start, -progress, -done, -abort   p2p.js: a file arriving directly
 */

export const events = new EventTarget();

export function emit(type, detail) {
  events.dispatchEvent(new CustomEvent(type, { detail }));
}
