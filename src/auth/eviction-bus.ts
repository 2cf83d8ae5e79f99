import type { SessionId, UserId } from '../core/ids.js';

/** A cache eviction one node tells the others about, after the write that caused it committed. */
export type Eviction = { kind: 'session'; id: SessionId } | { kind: 'user'; id: UserId };

/**
 * How nodes sharing one database keep each other's session caches honest: every revocation, user
 * change and factor reset on one node evicts the session (or all of the user's) on every node.
 */
export interface EvictionBus {
  /** Tells every other node. Never throws: when it cannot, the caches' max age bounds the staleness. */
  announce(eviction: Eviction): Promise<void>;
  /** True only while this node is sure to hear every other node's announcements. */
  readonly listening: boolean;
  close(): Promise<void>;
}
