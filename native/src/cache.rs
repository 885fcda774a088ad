//! A bounded, thread-safe LRU cache of signature-checked tokens.
//!
//! Entries are keyed by a 32-byte hash (see [`cache_key`]) of the token (its
//! bytes or its text) and of the key that verified it, and hold an
//! `Arc<VerifiedToken>`: the decoded blocks of a token whose signatures have
//! been checked. Only that is cached. Time bounds and the request (subject,
//! resource, operation, ...) are evaluated again on every verification, so a
//! cached token still expires on time.
//!
//! A capacity of 0 disables the cache (every lookup is a miss and nothing is
//! stored). Hit and miss counters are kept for `hessra_stats()`.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use crate::crypto::{sha256, PublicKey};
use crate::token::VerifiedToken;

/// The default number of entries (`hessra.cache_size` and the C ABI's default).
pub const DEFAULT_CAPACITY: usize = 1024;

/// A cache key: SHA-256 of the token and of the verifying key.
pub type CacheKey = [u8; 32];

/// Hashes a token representation together with a key. `domain` separates
/// the kinds of token representation (raw bytes, text) so the two never
/// collide.
pub fn cache_key(domain: &[u8], token: &[u8], key: Option<&PublicKey>) -> CacheKey {
    let mut buf = Vec::with_capacity(domain.len() + token.len() + 48);
    buf.extend_from_slice(domain);
    buf.push(0);
    buf.extend_from_slice(&(token.len() as u64).to_le_bytes());
    buf.extend_from_slice(token);
    match key {
        Some(k) => {
            buf.push(1);
            buf.push(k.algorithm() as u8);
            buf.extend_from_slice(k.bytes());
        }
        None => buf.push(0),
    }
    sha256(&buf)
}

const NIL: usize = usize::MAX;

struct Node<V> {
    key: CacheKey,
    value: Arc<V>,
    prev: usize,
    next: usize,
}

/// The LRU proper: a slab of nodes in a doubly linked recency list (head =
/// most recently used) plus an index from key to slot.
struct Lru<V> {
    capacity: usize,
    map: HashMap<CacheKey, usize>,
    nodes: Vec<Node<V>>,
    head: usize,
    tail: usize,
}

impl<V> Lru<V> {
    fn new(capacity: usize) -> Lru<V> {
        Lru {
            capacity,
            map: HashMap::new(),
            nodes: Vec::new(),
            head: NIL,
            tail: NIL,
        }
    }

    fn clear(&mut self) {
        self.map.clear();
        self.nodes.clear();
        self.head = NIL;
        self.tail = NIL;
    }

    fn unlink(&mut self, i: usize) {
        let (prev, next) = (self.nodes[i].prev, self.nodes[i].next);
        if prev != NIL {
            self.nodes[prev].next = next;
        } else {
            self.head = next;
        }
        if next != NIL {
            self.nodes[next].prev = prev;
        } else {
            self.tail = prev;
        }
        self.nodes[i].prev = NIL;
        self.nodes[i].next = NIL;
    }

    fn push_front(&mut self, i: usize) {
        self.nodes[i].prev = NIL;
        self.nodes[i].next = self.head;
        if self.head != NIL {
            self.nodes[self.head].prev = i;
        }
        self.head = i;
        if self.tail == NIL {
            self.tail = i;
        }
    }

    fn get(&mut self, key: &CacheKey) -> Option<Arc<V>> {
        let i = *self.map.get(key)?;
        if self.head != i {
            self.unlink(i);
            self.push_front(i);
        }
        Some(Arc::clone(&self.nodes[i].value))
    }

    fn insert(&mut self, key: CacheKey, value: Arc<V>) {
        if self.capacity == 0 {
            return;
        }
        if let Some(&i) = self.map.get(&key) {
            self.nodes[i].value = value;
            if self.head != i {
                self.unlink(i);
                self.push_front(i);
            }
            return;
        }
        let slot = if self.nodes.len() < self.capacity {
            self.nodes.push(Node {
                key,
                value,
                prev: NIL,
                next: NIL,
            });
            self.nodes.len() - 1
        } else {
            // Reuse the least recently used slot.
            let i = self.tail;
            self.unlink(i);
            let old = std::mem::replace(&mut self.nodes[i].key, key);
            self.map.remove(&old);
            self.nodes[i].value = value;
            i
        };
        self.map.insert(key, slot);
        self.push_front(slot);
    }

    fn len(&self) -> usize {
        self.map.len()
    }
}

/// Counters and sizes, as reported by `hessra_config_cache_stats`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CacheStats {
    pub hits: u64,
    pub misses: u64,
    pub entries: u64,
    pub capacity: u64,
}

/// A bounded LRU map from [`CacheKey`] to `Arc<V>`, safe to share across
/// threads.
pub struct Cache<V> {
    inner: Mutex<Lru<V>>,
    hits: AtomicU64,
    misses: AtomicU64,
}

/// The cache of signature-checked tokens.
pub type TokenCache = Cache<VerifiedToken>;

impl<V> Cache<V> {
    pub fn new(capacity: usize) -> Cache<V> {
        Cache {
            inner: Mutex::new(Lru::new(capacity)),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Lru<V>> {
        // A panic while holding the lock cannot leave the list half-linked in
        // a way that matters more than losing the cache: start over.
        match self.inner.lock() {
            Ok(g) => g,
            Err(poisoned) => {
                let mut g = poisoned.into_inner();
                g.clear();
                self.inner.clear_poison();
                g
            }
        }
    }

    /// Looks an entry up, counting a hit or a miss.
    pub fn get(&self, key: &CacheKey) -> Option<Arc<V>> {
        let found = {
            let mut g = self.lock();
            if g.capacity == 0 {
                None
            } else {
                g.get(key)
            }
        };
        match found {
            Some(v) => {
                self.hits.fetch_add(1, Ordering::Relaxed);
                Some(v)
            }
            None => {
                self.misses.fetch_add(1, Ordering::Relaxed);
                None
            }
        }
    }

    /// Stores an entry, evicting the least recently used one when full.
    pub fn insert(&self, key: CacheKey, value: Arc<V>) {
        self.lock().insert(key, value);
    }

    /// Returns the cached value, or computes, stores and returns it.
    pub fn get_or_insert_with<E>(
        &self,
        key: CacheKey,
        f: impl FnOnce() -> Result<V, E>,
    ) -> Result<Arc<V>, E> {
        if let Some(v) = self.get(&key) {
            return Ok(v);
        }
        // Computed outside the lock: signature checks are the slow part and
        // must not serialise the threads.
        let v = Arc::new(f()?);
        self.insert(key, Arc::clone(&v));
        Ok(v)
    }

    /// Drops every entry (counters are kept).
    pub fn clear(&self) {
        self.lock().clear();
    }

    /// Changes the capacity and clears the cache.
    pub fn set_capacity(&self, capacity: usize) {
        let mut g = self.lock();
        g.clear();
        g.capacity = capacity;
    }

    pub fn capacity(&self) -> usize {
        self.lock().capacity
    }

    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn stats(&self) -> CacheStats {
        let g = self.lock();
        CacheStats {
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
            entries: g.len() as u64,
            capacity: g.capacity as u64,
        }
    }
}

impl<V> Default for Cache<V> {
    fn default() -> Cache<V> {
        Cache::new(DEFAULT_CAPACITY)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn k(n: u8) -> CacheKey {
        [n; 32]
    }

    #[test]
    fn lru_evicts_least_recently_used() {
        let c: Cache<u32> = Cache::new(2);
        c.insert(k(1), Arc::new(1));
        c.insert(k(2), Arc::new(2));
        assert_eq!(c.get(&k(1)).as_deref(), Some(&1)); // 1 is now most recent
        c.insert(k(3), Arc::new(3)); // evicts 2
        assert!(c.get(&k(2)).is_none());
        assert_eq!(c.get(&k(1)).as_deref(), Some(&1));
        assert_eq!(c.get(&k(3)).as_deref(), Some(&3));
        let s = c.stats();
        assert_eq!((s.hits, s.misses, s.entries, s.capacity), (3, 1, 2, 2));
    }

    #[test]
    fn replace_existing_key() {
        let c: Cache<u32> = Cache::new(2);
        c.insert(k(1), Arc::new(1));
        c.insert(k(1), Arc::new(10));
        assert_eq!(c.len(), 1);
        assert_eq!(c.get(&k(1)).as_deref(), Some(&10));
    }

    #[test]
    fn capacity_zero_disables() {
        let c: Cache<u32> = Cache::new(0);
        c.insert(k(1), Arc::new(1));
        assert!(c.get(&k(1)).is_none());
        assert_eq!(c.len(), 0);
        let mut calls = 0;
        for _ in 0..3 {
            let v: Result<_, ()> = c.get_or_insert_with(k(1), || {
                calls += 1;
                Ok(7)
            });
            assert_eq!(*v.unwrap(), 7);
        }
        assert_eq!(calls, 3);
    }

    #[test]
    fn set_capacity_clears() {
        let c: Cache<u32> = Cache::new(4);
        for i in 0..4 {
            c.insert(k(i), Arc::new(i as u32));
        }
        assert_eq!(c.len(), 4);
        c.set_capacity(1);
        assert_eq!(c.len(), 0);
        c.insert(k(1), Arc::new(1));
        c.insert(k(2), Arc::new(2));
        assert_eq!(c.len(), 1);
        assert!(c.get(&k(2)).is_some());
    }

    #[test]
    fn many_inserts_stay_bounded_and_consistent() {
        let c: Cache<u64> = Cache::new(16);
        let mut state = 12345u64;
        for _ in 0..10_000 {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let n = (state >> 59) as u8; // 0..31
            if state & 1 == 0 {
                c.insert(k(n), Arc::new(n as u64));
            } else if let Some(v) = c.get(&k(n)) {
                assert_eq!(*v, n as u64);
            }
            assert!(c.len() <= 16);
        }
    }

    #[test]
    fn threads_share_the_cache() {
        let c: Arc<Cache<u64>> = Arc::new(Cache::new(8));
        let handles: Vec<_> = (0..4)
            .map(|t| {
                let c = Arc::clone(&c);
                std::thread::spawn(move || {
                    for i in 0..1000u64 {
                        let key = k(((i + t) % 12) as u8);
                        let v: Result<_, ()> = c.get_or_insert_with(key, || Ok((i + t) % 12));
                        assert_eq!(*v.unwrap(), (i + t) % 12);
                    }
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
        let s = c.stats();
        assert_eq!(s.hits + s.misses, 4000);
        assert!(s.entries <= 8);
    }

    #[test]
    fn key_depends_on_domain_and_token() {
        assert_ne!(cache_key(b"a", b"x", None), cache_key(b"b", b"x", None));
        assert_ne!(cache_key(b"a", b"x", None), cache_key(b"a", b"y", None));
        assert_eq!(cache_key(b"a", b"x", None), cache_key(b"a", b"x", None));
    }
}
