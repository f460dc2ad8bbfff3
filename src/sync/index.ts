export { chooseSendMode, type SendMode } from './mode.js';
export { parseResetMs, RateLimiter, retryAfterMs, TokenBucket } from './rate-limiter.js';
export { CUSTOM_ID_HEADER, runSyncLoop, type SyncLoopOptions, type SyncOutcome } from './sync-loop.js';
