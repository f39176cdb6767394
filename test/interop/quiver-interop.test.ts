// Issue 7 interop cases 1–9 (and the Quiver-initiated variants) in the default suite: see
// quiver-interop.ts for the cases and how each one is judged.
import { registerQuiverInterop } from './quiver-interop.js';

registerQuiverInterop();
