// Thin entry of a `quiver load` worker thread (DESIGN §1: logic lives under src/ and is tested in
// process). Run by piscina from src/cli/load.ts: one task = one lane of clients, see
// src/cli/load-lane.ts.
import { runLane, type LaneJob, type LaneResult } from '../src/cli/load-lane.js';

export default function lane(job: LaneJob): Promise<LaneResult> {
  return runLane(job);
}
