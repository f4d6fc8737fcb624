import { createMemoryStore } from '../../src/stores/memory.js';
import { storeConformance } from './conformance.js';

storeConformance('memory', () => createMemoryStore());
