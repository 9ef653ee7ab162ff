/* The chat's configuration, from the page (messaging/views.py chat: sb-config, sb-user). */

import { readJSON } from './dom.js';

export const config = Object.assign({ ws_path: '/ws/', max_body_bytes: 65536, page_size: 50, apps: {} }, readJSON('sb-config', {}));
/** Messages fetched per page of history. */
export const PAGE = Math.max(1, Math.min(200, Number(config.page_size) || 50));
export const MAX_BODY_BYTES = Number(config.max_body_bytes) || 65536;
/** The signed-in user as the page was rendered for. */
export const pageUser = readJSON('sb-user', null) || { id: 0, username: '', display_name: '' };

/** What an office app's handler gave its client (AppHandler.chat_config). */
export function appConfig(app) {
  return (config.apps && config.apps[app]) || {};
}

/** What people call a message of `app`, in the page's language (AppHandler.label): the
 * app's key for one the server did not name. */
export function appLabel(app) {
  return (config.app_labels && config.app_labels[app]) || app;
}
