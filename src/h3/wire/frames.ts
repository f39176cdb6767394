// L1 HTTP/3 frames: RFC 9114 §7.1 (layout: Type (i), Length (i), payload), §7.2 (DATA 0x00,
// HEADERS 0x01, CANCEL_PUSH 0x03, SETTINGS 0x04, PUSH_PROMISE 0x05, GOAWAY 0x07, MAX_PUSH_ID 0x0d),
// §7.2.8 (reserved types ignored; HTTP/2-only types 0x02, 0x06, 0x08, 0x09 → H3_FRAME_UNEXPECTED)
// and RFC 9218 §7.2 (PRIORITY_UPDATE 0xf0700 for a request, 0xf0701 for a push).
// A payload with bytes left over or ending inside a field → H3_FRAME_ERROR (§7.1).
// Encoders write into caller memory (`encodeX(w, …)`) and have a matching size function.

import { BufferUnderflow, Reader, Writer, varintSize } from '../../util/bytes.js';
import { latin1FromBytes } from '../../qpack/huffman.js';
import { H3Error, H3ErrorCode } from './errors.js';
import { decodeSettings, encodeSettingsPayload, settingsPayloadSize, type H3Settings } from './settings.js';

export const H3FrameType = {
  DATA: 0x00,
  HEADERS: 0x01,
  CANCEL_PUSH: 0x03,
  SETTINGS: 0x04,
  PUSH_PROMISE: 0x05,
  GOAWAY: 0x07,
  MAX_PUSH_ID: 0x0d,
  /** RFC 9218 §7.2 */
  PRIORITY_UPDATE_REQUEST: 0xf0700,
  PRIORITY_UPDATE_PUSH: 0xf0701,
} as const;

/** A complete non-DATA frame. DATA payload is reported incrementally by FrameReader. */
export type H3Frame =
  | { type: 'headers'; fieldSection: Uint8Array }
  | { type: 'cancel_push'; pushId: number }
  | { type: 'settings'; settings: H3Settings }
  | { type: 'push_promise'; pushId: number; fieldSection: Uint8Array }
  | { type: 'goaway'; id: number }
  | { type: 'max_push_id'; pushId: number }
  | { type: 'priority_update'; push: boolean; elementId: number; priority: string };

/** HTTP/2 frame types reserved in HTTP/3 (RFC 9114 §11.2.1): PRIORITY, PING, WINDOW_UPDATE, CONTINUATION. */
export function isHttp2OnlyFrameType(type: number): boolean {
  return type === 0x02 || type === 0x06 || type === 0x08 || type === 0x09;
}

/** The numeric type of a frame object. */
export function frameTypeOf(f: H3Frame): number {
  switch (f.type) {
    case 'headers':
      return H3FrameType.HEADERS;
    case 'cancel_push':
      return H3FrameType.CANCEL_PUSH;
    case 'settings':
      return H3FrameType.SETTINGS;
    case 'push_promise':
      return H3FrameType.PUSH_PROMISE;
    case 'goaway':
      return H3FrameType.GOAWAY;
    case 'max_push_id':
      return H3FrameType.MAX_PUSH_ID;
    case 'priority_update':
      return f.push ? H3FrameType.PRIORITY_UPDATE_PUSH : H3FrameType.PRIORITY_UPDATE_REQUEST;
  }
}

/** Size of a frame header (type + length varints). */
export function frameHeaderSize(type: number, length: number): number {
  return varintSize(type) + varintSize(length);
}

/** Write a frame header; the caller writes `length` payload bytes after it (DATA bodies, zero copy). */
export function encodeFrameHeader(w: Writer, type: number, length: number): void {
  w.varint(type);
  w.varint(length);
}

/** Payload length of a frame object. */
export function framePayloadSize(f: H3Frame): number {
  switch (f.type) {
    case 'headers':
      return f.fieldSection.length;
    case 'cancel_push':
    case 'max_push_id':
      return varintSize(f.pushId);
    case 'goaway':
      return varintSize(f.id);
    case 'settings':
      return settingsPayloadSize(f.settings);
    case 'push_promise':
      return varintSize(f.pushId) + f.fieldSection.length;
    case 'priority_update':
      return varintSize(f.elementId) + f.priority.length;
  }
}

/** Encoded size of a whole frame. */
export function frameSize(f: H3Frame): number {
  const n = framePayloadSize(f);
  return frameHeaderSize(frameTypeOf(f), n) + n;
}

/** Write a whole frame. PRIORITY_UPDATE values must be ASCII (RFC 9218 §7). */
export function encodeFrame(w: Writer, f: H3Frame): void {
  const n = framePayloadSize(f);
  encodeFrameHeader(w, frameTypeOf(f), n);
  switch (f.type) {
    case 'headers':
      w.bytes(f.fieldSection);
      return;
    case 'cancel_push':
    case 'max_push_id':
      w.varint(f.pushId);
      return;
    case 'goaway':
      w.varint(f.id);
      return;
    case 'settings':
      encodeSettingsPayload(w, f.settings);
      return;
    case 'push_promise':
      w.varint(f.pushId);
      w.bytes(f.fieldSection);
      return;
    case 'priority_update': {
      w.varint(f.elementId);
      const v = f.priority;
      w.need(v.length);
      for (let i = 0; i < v.length; i++) {
        const c = v.charCodeAt(i);
        if (c > 0x7e || c < 0x20) throw new TypeError('PRIORITY_UPDATE priority must be printable ASCII');
        w.buf[w.pos++] = c;
      }
      return;
    }
  }
}

/** A whole frame as a new Uint8Array (cold paths, tests). */
export function frameBytes(f: H3Frame): Uint8Array {
  const out = new Uint8Array(frameSize(f));
  encodeFrame(new Writer(out), f);
  return out;
}

function singleVarint(payload: Uint8Array, type: number, what: string): number {
  const r = new Reader(payload);
  let v: number;
  try {
    v = r.varint();
  } catch (e) {
    if (e instanceof BufferUnderflow) throw new H3Error(H3ErrorCode.H3_FRAME_ERROR, `${what} truncated`, type);
    throw e;
  }
  if (r.pos !== r.end) throw new H3Error(H3ErrorCode.H3_FRAME_ERROR, `${r.end - r.pos} extra byte(s) after ${what}`, type);
  return v;
}

/**
 * Decode the payload of a complete non-DATA frame of `type`. Returns null for frame types to be
 * ignored (reserved, unknown). Throws H3Error: H3_FRAME_UNEXPECTED for HTTP/2-only types,
 * H3_FRAME_ERROR for a malformed payload, H3_SETTINGS_ERROR from the SETTINGS codec.
 * `fieldSection` views point into `payload` (no copy).
 */
export function decodeFramePayload(type: number, payload: Uint8Array): H3Frame | null {
  switch (type) {
    case H3FrameType.DATA:
      throw new RangeError('DATA payloads are not decoded as whole frames');
    case H3FrameType.HEADERS:
      return { type: 'headers', fieldSection: payload };
    case H3FrameType.CANCEL_PUSH:
      return { type: 'cancel_push', pushId: singleVarint(payload, type, 'CANCEL_PUSH push ID') };
    case H3FrameType.SETTINGS:
      return { type: 'settings', settings: decodeSettings(payload) };
    case H3FrameType.PUSH_PROMISE: {
      const r = new Reader(payload);
      let pushId: number;
      try {
        pushId = r.varint();
      } catch {
        throw new H3Error(H3ErrorCode.H3_FRAME_ERROR, 'PUSH_PROMISE push ID truncated', type);
      }
      return { type: 'push_promise', pushId, fieldSection: payload.subarray(r.pos) };
    }
    case H3FrameType.GOAWAY:
      return { type: 'goaway', id: singleVarint(payload, type, 'GOAWAY ID') };
    case H3FrameType.MAX_PUSH_ID:
      return { type: 'max_push_id', pushId: singleVarint(payload, type, 'MAX_PUSH_ID push ID') };
    case H3FrameType.PRIORITY_UPDATE_REQUEST:
    case H3FrameType.PRIORITY_UPDATE_PUSH: {
      const r = new Reader(payload);
      let elementId: number;
      try {
        elementId = r.varint();
      } catch {
        throw new H3Error(H3ErrorCode.H3_FRAME_ERROR, 'PRIORITY_UPDATE element ID truncated', type);
      }
      return {
        type: 'priority_update',
        push: type === H3FrameType.PRIORITY_UPDATE_PUSH,
        elementId,
        priority: latin1FromBytes(payload, r.pos, payload.length),
      };
    }
    default:
      if (isHttp2OnlyFrameType(type)) {
        throw new H3Error(H3ErrorCode.H3_FRAME_UNEXPECTED, `HTTP/2 frame type 0x${type.toString(16)} is not allowed in HTTP/3`, type);
      }
      return null;
  }
}
