// Thin entry of a shard worker thread (DESIGN §1: logic lives under src/ and is tested in process).
// Started by src/multicore/server.ts listenMulticore(); see src/multicore/shard-worker.ts.
import { workerData } from 'node:worker_threads';
import { runShardWorker, type ShardWorkerData } from '../src/multicore/shard-worker.js';

void runShardWorker(workerData as ShardWorkerData);
