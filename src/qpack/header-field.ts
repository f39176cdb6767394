// L1 QPACK field lines as the codecs exchange them with the HTTP/3 layer (RFC 9204 §4.5).

/**
 * One field line: [name, value] or [name, value, neverIndex]. Names and values are Latin-1 strings
 * (one char per octet, like WHATWG ByteString), so any octets round-trip. `neverIndex` asks the
 * encoder for a literal with the N bit (RFC 9204 §4.5.4, §7.1.3); the decoder sets it when the
 * peer sent the N bit, so an intermediary can keep it when re-encoding.
 */
export type HeaderField = [name: string, value: string, neverIndex?: boolean];

/** Input form accepted by the encoder. */
export type HeaderFieldInput = readonly [name: string, value: string, neverIndex?: boolean];

/** RFC 9114 §4.2.2 field section size: Σ (name + value + 32). */
export function fieldSectionSize(headers: ReadonlyArray<HeaderFieldInput>): number {
  let n = 0;
  for (const h of headers) n += h[0].length + h[1].length + 32;
  return n;
}
