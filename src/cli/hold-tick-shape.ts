/**
 * The first import of cli/main.ts, so it runs before any other module loads: holds one of Node's
 * tick objects for the life of the process, before a full GC could let their hidden classes die
 * (http/tick-object-shape.ts says why that costs a quarter of a server's speed).
 */
import { holdTickObjectShape } from '../http/tick-object-shape.js';

holdTickObjectShape();
