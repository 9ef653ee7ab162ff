/* Approval cards in the web chat: the `approval` app's renderer.
 *
 * A message body is {approval: id, event, title, template, requester, state}, a snapshot
 * taken when the card was sent. The card shows that at once, then fetches the request
 * (GET /api/v1/approvals/{id}/, cached per id) when it scrolls into view, and shows the
 * live state, the form, the chain of steps and, for the viewer, Approve / Reject or
 * Withdraw. An `app_event` frame for an approval refetches it and repaints every card of
 * it on the page.
 */
import { register, api, h, events, gettext, fill, appConfig } from '../messaging/client.js';

const SUMMARY_ROWS = 5;

/** The card's template name in the page's language (ApprovalHandler.chat_config), else
 * the name the card was sent with. */
function templateName(body) {
  const names = appConfig('approval').templates || {};
  return (body && names[body.template]) || (body && body.title) || '';
}
const ICONS = { pending: '✎', approved: '✓', rejected: '✕', withdrawn: '↩' };

// ---------------------------------------------------------------------------------------
// Labels: one literal msgid each, so that `makemessages -d djangojs` finds them all.
// ---------------------------------------------------------------------------------------
/** A request's state, or null for a state this page does not know. */
function stateText(state) {
  switch (state) {
    case 'draft': return gettext('Draft');
    case 'pending': return gettext('Pending');
    case 'approved': return gettext('Approved');
    case 'rejected': return gettext('Rejected');
    case 'withdrawn': return gettext('Withdrawn');
    default: return null;
  }
}

/** A step's state; one this page does not know shows as its key. */
function stepText(state) {
  switch (state) {
    case 'waiting': return gettext('Waiting');
    case 'pending': return gettext('Pending');
    case 'approved': return gettext('Approved');
    case 'rejected': return gettext('Rejected');
    case 'skipped': return gettext('Skipped');
    case 'cancelled': return gettext('Cancelled');
    default: return `step_${state}`;
  }
}

/** An approver's decision, as it follows their name. */
function decisionText(decision) {
  switch (decision) {
    case 'approve': return gettext('approved');
    case 'reject': return gettext('rejected');
    default: return `decision_${decision}`;
  }
}

/** Why the card was sent (the body's `event`), or null for an event this page does not know. */
function eventText(event) {
  switch (event) {
    case 'review': return gettext('Asks for approval');
    case 'progress': return gettext('Passed a step');
    case 'approved': return gettext('Decision: approved');
    case 'rejected': return gettext('Decision: rejected');
    case 'withdrawn': return gettext('Withdrawn by the requester');
    case 'reminder': return gettext('Reminder: still waiting for you');
    case 'cc-submitted':
    case 'cc-approved':
    case 'cc-rejected':
    case 'cc-withdrawn': return gettext('Copied to you');
    default: return null;
  }
}

// ---------------------------------------------------------------------------------------
// The requests, cached per id. `gen` orders the answers: only the newest one is kept.
// ---------------------------------------------------------------------------------------
const cache = new Map(); // id -> {data, stale, error, inflight, gen}

function entry(id) {
  let e = cache.get(id);
  if (!e) cache.set(id, (e = { data: null, stale: true, error: null, inflight: null, gen: 0 }));
  return e;
}

function load(id, force) {
  const e = entry(id);
  if (!force && !e.stale && e.data) return Promise.resolve(e.data);
  if (!force && e.inflight) return e.inflight;
  const gen = ++e.gen;
  const p = api('GET', `/api/v1/approvals/${id}/`).then(
    (data) => {
      if (gen === e.gen) store(id, data, gen);
      return data;
    },
    (err) => {
      if (gen === e.gen) {
        e.inflight = null;
        e.error = err;
        paintAll(id);
      }
      throw err;
    });
  p.catch(() => {});
  e.inflight = p;
  return p;
}

function store(id, data, gen) {
  const e = entry(id);
  if (gen === undefined) e.gen++; // an answer to an action supersedes any fetch under way
  Object.assign(e, { data, stale: false, error: null, inflight: null });
  paintAll(id);
}

function cardsOf(id) {
  return document.querySelectorAll(`.approval-card[data-approval="${Number(id)}"]`);
}
function paintAll(id) {
  for (const card of cardsOf(id)) paint(card);
}

// Cards fetch their request when they come into view (or at once without the observer).
const seen = 'IntersectionObserver' in window
  ? new IntersectionObserver((entries) => {
    for (const en of entries) {
      if (!en.isIntersecting) continue;
      seen.unobserve(en.target);
      const st = cardState.get(en.target);
      if (st) load(st.id).catch(() => {});
    }
  }, { rootMargin: '200px 0px' })
  : null;

// ---------------------------------------------------------------------------------------
// Cards
// ---------------------------------------------------------------------------------------
const cardState = new WeakMap(); // card element -> {id, body, comment, busy, error}

function stateLabel(state, data) {
  if (data && data.state === state && data.state_label) return data.state_label;
  return stateText(state) ?? String(state || '');
}

function badge(state, label, testid) {
  return h('span', {
    class: `badge approval-state approval-state-${state || 'unknown'}`,
    'data-testid': testid || null,
    'data-state': state || '',
    text: label,
  });
}

function person(p) { return (p && (p.display_name || p.username)) || ''; }

function summaryEl(data) {
  const rows = (data.summary || []).slice(0, SUMMARY_ROWS);
  if (!rows.length) return null;
  const dl = h('dl', { class: 'approval-card-summary' });
  for (const r of rows) {
    const value = r.url ? h('a', { href: r.url, text: r.value }) : r.value;
    dl.append(h('dt', { text: r.label }), h('dd', null, value));
  }
  return dl;
}

function stepsEl(data) {
  const steps = data.steps || [];
  if (!steps.length) return null;
  const ol = h('ol', { class: 'approval-card-steps', 'aria-label': gettext('Approval chain') });
  for (const s of steps) {
    const names = (s.approvers || []).map((a) => {
      const mark = a.decision === 'approve' ? '✓' : a.decision === 'reject' ? '✗' : '';
      return h('span', { class: 'approval-card-approver' + (a.decision ? ` approval-decision-${a.decision}` : '') },
        person(a),
        mark ? h('span', { class: 'approval-mark', 'aria-hidden': 'true', title: decisionText(a.decision), text: ' ' + mark }) : null,
        mark ? h('span', { class: 'approval-sr', text: ` (${decisionText(a.decision)})` }) : null);
    });
    const who = h('span', { class: 'approval-card-step-who' });
    names.forEach((n, i) => { if (i) who.append(', '); who.append(n); });
    ol.append(h('li', {
      class: `approval-card-step approval-step-${s.state}`,
      'data-state': s.state,
      'aria-current': s.index === data.current_step ? 'step' : null,
    },
    h('span', { class: 'approval-card-step-name', text: s.name || fill(gettext('Step {n}'), { n: s.index + 1 }) }),
    who,
    h('span', { class: `approval-card-step-state approval-state-text-${s.state}`, text: stepText(s.state) })));
  }
  return ol;
}

function actionsEl(card, st, data) {
  if (!data.can_decide && !data.can_withdraw) return null;
  const box = h('div', { class: 'approval-card-actions' });
  const disabled = st.busy || null;
  if (data.can_decide) {
    box.append(h('input', {
      type: 'text',
      class: 'approval-card-comment',
      'data-role': 'comment',
      'data-testid': 'approval-comment',
      maxlength: 1000,
      placeholder: gettext('Comment (optional)'),
      'aria-label': gettext('Comment (optional)'),
      value: st.comment || '',
      disabled,
      oninput: (ev) => { st.comment = ev.target.value; },
    }));
    box.append(h('div', { class: 'approval-card-buttons' },
      h('button', {
        type: 'button', class: 'button button-primary', 'data-role': 'approve', 'data-testid': 'approval-approve',
        disabled, text: gettext('Approve'), onclick: () => act(card, 'approve'),
      }),
      h('button', {
        type: 'button', class: 'button approval-button-reject', 'data-role': 'reject', 'data-testid': 'approval-reject',
        disabled, text: gettext('Reject'), onclick: () => act(card, 'reject'),
      })));
  }
  if (data.can_withdraw) {
    box.append(h('div', { class: 'approval-card-buttons' },
      h('button', {
        type: 'button', class: 'button approval-button-reject', 'data-role': 'withdraw', 'data-testid': 'approval-withdraw',
        disabled, text: gettext('Withdraw'), onclick: () => act(card, 'withdraw'),
      })));
  }
  return box;
}

function paint(card) {
  const st = cardState.get(card);
  if (!st) return;
  const e = cache.get(st.id);
  const data = e && e.data;
  const state = data ? data.state : st.body.state;
  const title = data ? data.template.name : (templateName(st.body) || gettext('Approval'));

  // Keep what the reader was doing across a repaint: the comment and the focused control.
  const focused = card.contains(document.activeElement) && document.activeElement.dataset
    ? document.activeElement.dataset.role : null;

  card.dataset.state = state || '';
  card.setAttribute('aria-label', `${title}: ${stateLabel(state, data)}`);
  card.setAttribute('aria-busy', data || (e && e.error) ? 'false' : 'true');

  const sub = [];
  if (data) sub.push(fill(gettext('From {name}'), { name: person(data.requester) }));
  const event = eventText(st.body.event);
  if (event) sub.push(event);

  const children = [
    h('div', { class: 'approval-card-head' },
      h('span', { class: 'approval-card-icon', 'aria-hidden': 'true', text: ICONS[state] || ICONS.pending }),
      h('div', { class: 'approval-card-title' },
        h('strong', { text: title }),
        sub.length ? h('div', { class: 'muted small', text: sub.join(' · ') }) : null),
      badge(state, stateLabel(state, data), 'approval-state')),
  ];

  if (data) {
    children.push(summaryEl(data), stepsEl(data));
    if (data.state === 'pending' && (data.current_approvers || []).length && !data.can_decide) {
      children.push(h('div', { class: 'muted small approval-card-waiting' },
        fill(gettext('Waiting for {names}'), { names: data.current_approvers.map(person).join(', ') })));
    }
    children.push(actionsEl(card, st, data));
  } else if (e && e.error) {
    children.push(h('div', { class: 'approval-card-note muted small' },
      gettext('Could not load this request.'), ' ',
      h('button', { type: 'button', class: 'link', 'data-role': 'retry', text: gettext('Try again'), onclick: () => load(st.id, true).catch(() => {}) })));
  } else {
    children.push(h('div', { class: 'approval-card-note muted small' },
      h('span', { class: 'chat-spinner', 'aria-hidden': 'true' }), ' ', gettext('Loading…')));
  }

  children.push(h('p', { class: 'approval-card-error', role: 'alert', hidden: !st.error || null, text: st.error || '' }));
  children.push(h('div', { class: 'approval-card-foot' },
    h('a', { href: `/approvals/${st.id}/`, class: 'small', 'data-testid': 'approval-details', text: gettext('Details') + ' →' })));

  card.replaceChildren(...children.filter(Boolean));

  if (focused) {
    const again = card.querySelector(`[data-role="${focused}"]`);
    if (again && !again.disabled) again.focus({ preventScroll: true });
    else card.focus({ preventScroll: true });
  }
}

async function act(card, kind) {
  const st = cardState.get(card);
  if (!st || st.busy) return;
  const input = card.querySelector('[data-role="comment"]');
  const comment = (input ? input.value : st.comment || '').trim();
  st.busy = true;
  st.error = '';
  paint(card);
  const path = kind === 'withdraw' ? `/api/v1/approvals/${st.id}/withdraw/` : `/api/v1/approvals/${st.id}/decide/`;
  try {
    const data = await api('POST', path, kind === 'withdraw' ? { comment } : { decision: kind, comment });
    st.comment = '';
    st.busy = false;
    store(st.id, data);
    card.focus({ preventScroll: true });
  } catch (err) {
    st.busy = false;
    st.error = (err && err.detail) || gettext('Something went wrong.');
    paint(card);
    // Someone else decided first, or the chain moved on: show how things stand now.
    if (err && (err.status === 403 || err.status === 409)) load(st.id, true).catch(() => {});
  }
}

function renderApproval(body) {
  const id = Number(body && body.approval);
  if (!Number.isInteger(id) || id <= 0) throw new TypeError('an approval card needs an approval id');
  const card = h('article', {
    class: 'approval-card',
    'data-testid': 'approval-card',
    'data-approval': id,
    tabindex: '-1',
  });
  cardState.set(card, { id, body, comment: '', busy: false, error: '' });
  paint(card);
  const e = cache.get(id);
  if (!e || e.stale || !e.data) {
    if (seen) seen.observe(card);
    else load(id).catch(() => {});
  }
  return card;
}

// ---------------------------------------------------------------------------------------
// Live updates
// ---------------------------------------------------------------------------------------
events.addEventListener('app_event', (ev) => {
  const f = ev.detail || {};
  if (f.app !== 'approval' || !f.data) return;
  const id = Number(f.data.approval);
  if (!Number.isInteger(id)) return;
  const e = entry(id);
  e.stale = true;
  // The new state at once, the rest when the request has been fetched again.
  if (e.data && f.data.state && e.data.state !== f.data.state) {
    for (const card of cardsOf(id)) {
      const b = card.querySelector('[data-testid="approval-state"]');
      if (b) b.replaceWith(badge(f.data.state, stateLabel(f.data.state), 'approval-state'));
      const icon = card.querySelector('.approval-card-icon');
      if (icon) icon.textContent = ICONS[f.data.state] || ICONS.pending;
      card.dataset.state = f.data.state;
    }
  }
  if (cardsOf(id).length) load(id, true).catch(() => {});
});

// After a reconnect, events may have been missed: everything cached is stale.
let hellos = 0;
events.addEventListener('hello', () => {
  if (hellos++ === 0) return;
  const ids = new Set();
  for (const [id, e] of cache) { e.stale = true; ids.add(id); }
  for (const id of ids) if (cardsOf(id).length) load(id, true).catch(() => {});
});

register('approval', renderApproval, { preview: templateName });
