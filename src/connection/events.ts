// L4: turning sub-module signals into ConnectionEvents (DESIGN §2: plain objects with `type`):
// the stream map's readiness edges, CIDs issued/retired for the endpoint's routing table.
import { isUni, streamIndex, streamType } from '../transport/stream-id.js';
import type { ConnState } from './state.js';

/** Move pending stream-map and CID signals into the connection's event queue, in order. */
export function flushAuxEvents(st: ConnState): void {
  const lc = st.localCids;
  if (lc.issuedEvents.length > 0) {
    for (const cid of lc.issuedEvents) st.emit({ type: 'cid-issued', cid });
    lc.issuedEvents.length = 0;
  }
  if (lc.retiredEvents.length > 0) {
    for (const cid of lc.retiredEvents) st.emit({ type: 'cid-retired', cid });
    lc.retiredEvents.length = 0;
  }
  for (let e = st.streams.pollEvent(); e !== undefined; e = st.streams.pollEvent()) {
    switch (e.type) {
      case 'opened':
        st.counters.streamsOpenedRemote++;
        noteOpened(st, e.streamId);
        st.emit({ type: 'stream-opened', id: e.streamId, bidirectional: !isUni(e.streamId) });
        break;
      case 'readable':
        st.emit({ type: 'stream-readable', id: e.streamId });
        break;
      case 'writable':
        st.emit({ type: 'stream-writable', id: e.streamId });
        break;
      case 'reset': {
        const r = st.streams.get(e.streamId)?.recv;
        st.emit({ type: 'stream-reset', id: e.streamId, code: e.errorCode, finalSize: r?.finalSize ?? -1 });
        break;
      }
      case 'stop_sending':
        st.emit({ type: 'stream-stop-sending', id: e.streamId, code: e.errorCode });
        break;
      case 'closed':
        st.emit({ type: 'stream-closed', id: e.streamId });
        break;
      case 'streams_available':
        st.emit({ type: 'streams-available', bidirectional: e.bidi });
        break;
      case 'send_complete':
        break;
    }
  }
}

/** Remember that stream `id` (and every lower one of its type) was opened, for API checks on released streams. */
export function noteOpened(st: ConnState, id: number): void {
  const t = streamType(id);
  const n = streamIndex(id) + 1;
  if (n > st.openedStreams[t]!) st.openedStreams[t] = n;
}
