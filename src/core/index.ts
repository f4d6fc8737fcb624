/** The core's public surface: what every other folder, and every embedder, builds on. */
export * from './channel.js';
export * from './effects.js';
export * from './engine.js';
export * from './engine-types.js';
export * from './errors.js';
export * from './events.js';
export * from './flow.js';
export * from './ids.js';
export * from './logger.js';
export * from './outbound.js';
export type { RetentionOptions } from './retention.js';
export { compileFlow, step, type CompiledFlow, type StepResult } from './runtime.js';
export * from './store.js';
