// Test helper (not a test file): two StreamMaps joined by a simulated link with seeded loss,
// reordering and late ACKs. It plays the part of the connection: builds "packets" from
// pollControlFrame/pollStreamFrame, delivers frames to the peer's handlers, and reports each
// packet's frames as acknowledged or lost. Deterministic for a given seed.
import {
  StreamMap,
  StreamFrameType as FT,
  newControlFrameInfo,
  type ControlFrameInfo,
  type StreamEvent,
  type StreamMapOptions,
} from '../../src/transport/stream-map.js';
import { newStreamFrameInfo } from '../../src/transport/send-stream.js';

export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Frame =
  | { kind: 'stream'; id: number; offset: number; data: Uint8Array; fin: boolean }
  | { kind: 'ctrl'; f: ControlFrameInfo };

interface Packet {
  frames: Frame[];
  sentAt: number;
  acked: boolean;
  lost: boolean;
}

interface InFlight {
  at: number;
  to: Side;
  pkt: Packet;
}

export interface LinkOptions {
  seed: number;
  loss?: number;
  ackLoss?: number;
  /** Extra random one-way delay in ms (reordering). */
  jitter?: number;
  rtt?: number;
  packetSize?: number;
  packetsPerMs?: number;
}

export class Side {
  readonly map: StreamMap;
  readonly name: string;
  sentPackets: Packet[] = [];
  stats = { packets: 0, streamFrames: 0, ctrl: new Map<number, number>(), retransmittedBytes: 0 };
  constructor(name: string, opts: StreamMapOptions) {
    this.name = name;
    this.map = new StreamMap(opts);
  }
  countCtrl(type: number): number {
    return this.stats.ctrl.get(type) ?? 0;
  }
}

export class Link {
  readonly client: Side;
  readonly server: Side;
  now = 0;
  private readonly rng: () => number;
  private readonly net: InFlight[] = [];
  private readonly acks: Array<{ at: number; side: Side; pkt: Packet }> = [];
  private readonly o: Required<LinkOptions>;

  constructor(client: StreamMapOptions, server: StreamMapOptions, opts: LinkOptions) {
    this.client = new Side('client', client);
    this.server = new Side('server', server);
    this.o = { loss: 0, ackLoss: 0, jitter: 0, rtt: 20, packetSize: 1200, packetsPerMs: 8, ...opts };
    this.rng = mulberry32(opts.seed);
    this.client.map.setPeerLimits(limitsOf(server));
    this.server.map.setPeerLimits(limitsOf(client));
  }

  private peerOf(s: Side): Side {
    return s === this.client ? this.server : this.client;
  }

  /** Build up to packetsPerMs packets per side, deliver what is due, process ACKs and losses. */
  step(onEvent: (side: Side, ev: StreamEvent) => void): void {
    for (const side of [this.client, this.server]) this.send(side);
    this.now += 1;
    // Deliver due packets (the array is kept unsorted; random jitter reorders).
    for (let i = 0; i < this.net.length; ) {
      const f = this.net[i]!;
      if (f.at > this.now) {
        i++;
        continue;
      }
      this.net.splice(i, 1);
      this.receive(f.to, f.pkt);
      if (this.rng() >= this.o.ackLoss) this.acks.push({ at: this.now + this.o.rtt / 2, side: this.peerOf(f.to), pkt: f.pkt });
    }
    for (let i = 0; i < this.acks.length; ) {
      const a = this.acks[i]!;
      if (a.at > this.now) {
        i++;
        continue;
      }
      this.acks.splice(i, 1);
      this.ack(a.side, a.pkt);
    }
    // Loss detection: unacknowledged after 3 RTT. A later ACK is still processed (spurious loss).
    for (const side of [this.client, this.server]) {
      const keep: Packet[] = [];
      for (const p of side.sentPackets) {
        if (p.acked) continue;
        if (!p.lost && this.now - p.sentAt > 3 * this.o.rtt) this.lose(side, p);
        if (!p.lost) keep.push(p);
      }
      side.sentPackets = keep;
    }
    for (const side of [this.client, this.server]) {
      for (let ev = side.map.pollEvent(); ev !== undefined; ev = side.map.pollEvent()) onEvent(side, ev);
    }
  }

  private send(side: Side): void {
    const map = side.map;
    const cf = newControlFrameInfo();
    const sf = newStreamFrameInfo();
    for (let n = 0; n < this.o.packetsPerMs; n++) {
      let room = this.o.packetSize;
      const frames: Frame[] = [];
      while (room > 0 && map.pollControlFrame(room, this.now, this.o.rtt, cf)) {
        frames.push({ kind: 'ctrl', f: { ...cf } });
        side.stats.ctrl.set(cf.frameType, (side.stats.ctrl.get(cf.frameType) ?? 0) + 1);
        room -= 1 + 8 + 8 + 8;
      }
      while (room > 8 && map.pollStreamFrame(room, sf)) {
        const data = new Uint8Array(sf.length);
        map.copyStreamData(sf.streamId, sf.offset, sf.length, data, 0);
        frames.push({ kind: 'stream', id: sf.streamId, offset: sf.offset, data, fin: sf.fin });
        side.stats.streamFrames++;
        if (sf.newBytes === 0) side.stats.retransmittedBytes += sf.length;
        room -= sf.length + 1 + 8 + 8 + 8;
      }
      if (frames.length === 0) return;
      const pkt: Packet = { frames, sentAt: this.now, acked: false, lost: false };
      side.sentPackets.push(pkt);
      side.stats.packets++;
      if (this.rng() < this.o.loss) continue;
      const delay = this.o.rtt / 2 + Math.floor(this.rng() * (this.o.jitter + 1));
      this.net.push({ at: this.now + delay, to: this.peerOf(side), pkt });
    }
  }

  private receive(to: Side, pkt: Packet): void {
    const m = to.map;
    for (const fr of pkt.frames) {
      if (fr.kind === 'stream') {
        m.onStreamFrame(fr.id, fr.offset, fr.data, fr.fin);
        continue;
      }
      const f = fr.f;
      switch (f.frameType) {
        case FT.RESET_STREAM:
          m.onResetStream(f.streamId, f.errorCode, f.value);
          break;
        case FT.STOP_SENDING:
          m.onStopSending(f.streamId, f.errorCode);
          break;
        case FT.MAX_DATA:
          m.onMaxData(f.value);
          break;
        case FT.MAX_STREAM_DATA:
          m.onMaxStreamData(f.streamId, f.value);
          break;
        case FT.MAX_STREAMS_BIDI:
        case FT.MAX_STREAMS_UNI:
          m.onMaxStreams(f.frameType === FT.MAX_STREAMS_BIDI, f.value);
          break;
        case FT.DATA_BLOCKED:
          m.onDataBlocked(f.value);
          break;
        case FT.STREAM_DATA_BLOCKED:
          m.onStreamDataBlocked(f.streamId, f.value);
          break;
        case FT.STREAMS_BLOCKED_BIDI:
        case FT.STREAMS_BLOCKED_UNI:
          m.onStreamsBlocked(f.frameType === FT.STREAMS_BLOCKED_BIDI, f.value);
          break;
        default:
          throw new Error(`unexpected frame type ${f.frameType}`);
      }
    }
  }

  private ack(side: Side, pkt: Packet): void {
    if (pkt.acked) return;
    pkt.acked = true;
    for (const fr of pkt.frames) {
      if (fr.kind === 'stream') side.map.onStreamFrameAcked(fr.id, fr.offset, fr.data.length, fr.fin);
      else side.map.onControlFrameAcked(fr.f);
    }
  }

  private lose(side: Side, pkt: Packet): void {
    pkt.lost = true;
    for (const fr of pkt.frames) {
      if (fr.kind === 'stream') side.map.onStreamFrameLost(fr.id, fr.offset, fr.data.length, fr.fin);
      else side.map.onControlFrameLost(fr.f);
    }
  }

  /** Nothing in flight and nothing left to send on either side. */
  idle(): boolean {
    if (this.net.length > 0 || this.acks.length > 0) return false;
    for (const s of [this.client, this.server]) {
      if (s.sentPackets.length > 0) return false;
      if (s.map.hasPendingControl() || s.map.hasPendingStreamData()) return false;
    }
    return true;
  }
}

function limitsOf(o: StreamMapOptions): StreamMapOptions['local'] {
  return o.local;
}
