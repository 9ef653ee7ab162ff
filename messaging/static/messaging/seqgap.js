/* Which messages of a conversation this page holds, by seq, and how a gap is repaired.
 * Every conversation numbers its messages 1, 2, 3, …; a page that holds 7 and receives 9
 * fetches 8 before it trusts anything past 7 (docs/protocol.md). No DOM: tested with
 * node --test. */

export class SeqWindow {
  constructor() {
    this.byId = new Map();    // id -> stored message
    this.bySeq = new Map();   // seq -> stored message
    this.pending = new Map(); // client_id -> message not yet stored (own, or a peer's direct copy)
    this.minSeq = null;       // the oldest seq loaded
    this.contig = 0;          // every seq from minSeq to contig is loaded
  }

  *all() {
    yield* this.byId.values();
    yield* this.pending.values();
  }

  /** Take a stored message; false if it was held already. */
  hold(m) {
    if (this.byId.has(m.id)) return false;
    this.byId.set(m.id, m);
    this.bySeq.set(m.seq, m);
    return true;
  }

  maxSeq() {
    let m = 0;
    for (const s of this.bySeq.keys()) if (s > m) m = s;
    return m;
  }

  /** Move contig over what has arrived. An empty conversation at load time has contig 0:
   * seq 1 is the first one expected. */
  advance() {
    while (this.bySeq.has(this.contig + 1)) this.contig++;
    if (this.minSeq === null && this.bySeq.size) this.minSeq = Math.min(...this.bySeq.keys());
  }

  /** Something past contig is held, so something before it is missing. */
  hasGap() {
    return this.maxSeq() > this.contig;
  }
}

/** Fetch what is missing after win.contig, a page at a time, until there is no gap, a page
 * brings nothing new, or `rounds` pages were fetched. fetchAfter(seq) resolves to messages;
 * accept(messages) puts them into the window (and on screen). */
export async function repairGap(win, { fetchAfter, accept, isClosed = () => false, rounds = 20 }) {
  for (let round = 0; round < rounds && !isClosed() && win.hasGap(); round++) {
    const before = win.contig;
    const messages = await fetchAfter(win.contig);
    if (isClosed()) return;
    accept(messages);
    if (!win.hasGap() || win.contig === before) break;
  }
}
