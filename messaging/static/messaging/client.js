/* What the web chat offers office apps: import it from an app's module,
 *   import { register, api, h, gettext } from '../messaging/client.js';
 * and nothing else of the chat's modules. An app's module is included into the chat
 * page by its handler's chat_include (see messaging/registry.py). */

export { register, render } from './renderers.js';
export { send } from './send.js';
export { newClientId } from './outbox.js';
export { api, ApiError, csrfToken } from './api.js';
export { h, toast } from './dom.js';
export { config, appConfig } from './config.js';
export { events } from './events.js';
export { me, userName, peerOf, directWith, openId } from './state.js';
export { keepInView, messageList } from './conversation.js';
export { transport } from './p2p.js';
export { gettext, ngettext, pgettext, fill, LANG } from './i18n.js';
