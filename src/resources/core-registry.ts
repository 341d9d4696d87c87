/**
 * The registry of the core kinds (core-kinds.ts). Front doors (the CLI, test harnesses, the docs generators)
 * start from it; everything below them is handed a Registry and never imports this file.
 */
import * as core from './core-kinds.js';
import { registryOf } from './registry.js';

export const coreRegistry = registryOf(Object.values(core));
