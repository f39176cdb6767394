// L1 QPACK (RFC 9204): the public surface of src/qpack/.
export { QpackEncoder, defaultShouldIndex, defaultIsSensitive } from './encoder.js';
export type { QpackEncoderOptions, EncodedFieldSection } from './encoder.js';
export { QpackDecoder, BLOCKED } from './decoder.js';
export type { QpackDecoderOptions, UnblockedSection } from './decoder.js';
export { QpackError, QpackErrorCode } from './errors.js';
export type { QpackErrorCodeValue } from './errors.js';
export type { HeaderField, HeaderFieldInput } from './header-field.js';
export { fieldSectionSize } from './header-field.js';
export { STATIC_TABLE, staticExactIndex, staticNameIndex } from './static-table.js';
export { huffmanDecodeBytes, huffmanEncodeBytes } from './huffman.js';
