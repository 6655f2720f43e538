/**
 * Insertion-ordered `Map`s used as bounded caches: the oldest entries go first.
 */

/**
 * Removes the oldest entries of `map` while it holds more than `max`, calling `evict` (if given)
 * for each key instead of deleting it itself (the callback must remove the key).
 */
export function evictOldest<K, V>(map: Map<K, V>, max: number, evict?: (key: K) => void): void {
  while (map.size > max) {
    const oldest = map.keys().next();
    if (oldest.done) return;
    if (evict) {
      const before = map.size;
      evict(oldest.value);
      if (map.size === before) map.delete(oldest.value); // the callback did not remove it
    } else {
      map.delete(oldest.value);
    }
  }
}
