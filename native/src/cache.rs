//! A bounded, thread-safe LRU cache of signature-checked tokens.
//!
//! Entries are keyed by a 32-byte hash (see [`cache_key`]) of the token (its
//! bytes or its text) and of the key that verified it, and hold an
//! `Arc<CheckedToken>`: the decoded blocks of a token whose signatures have
//! been checked, and once known the verdict of its revocation check. Only
//! that is cached. Time bounds and the request (subject, resource,
//! operation, ...) are evaluated again on every verification, so a cached
//! token still expires on time.
//!
//! A capacity of 0 disables the cache (every lookup is a miss and nothing is
//! stored). Hit and miss counters are kept for `hessra_stats()`.
//!
//! The cache is bounded twice: by entries (the capacity) and by memory, at
//! [`BYTES_PER_ENTRY`] times the capacity (1 843 200 bytes at the default
//! 1024 entries, so that a backend's resident memory grows by less than 2 MB). Each entry weighs an estimate of what it
//! holds on the heap ([`Weight`]: its allocations with the allocator's
//! overhead, plus the cache's own bookkeeping), so large tokens (up to the
//! configured max_token_bytes, e.g. attenuated many times) evict others
//! instead of multiplying the memory a backend holds; an entry heavier than
//! the whole budget is not cached.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

use crate::crypto::{sha256, PublicKey};
use crate::token::VerifiedToken;

/// The default number of entries (`hessra.cache_size` and the C ABI's default).
pub const DEFAULT_CAPACITY: usize = 1024;

/// Memory budget per entry of capacity (see the module documentation). The
/// weights cover the entries; the slab's and the index's spare capacity and
/// the allocator's fragmentation are not weighed: measured as a PostgreSQL
/// backend's RssAnon growth, 1900 gave 2.00 MB at 1024 entries, hence 1800.
pub const BYTES_PER_ENTRY: usize = 1800;

/// What a cached value holds on the heap, in bytes (an estimate).
pub trait Weight {
    fn weight(&self) -> usize;
}

/// A signature-checked token as the cache keeps it, with the verdict of its
/// revocation check once it was made: the first revoked block, or none. A
/// cache belongs to one configuration, whose own revocation list never
/// changes; a host's list ([`crate::trust::RevocationLookup`]) changes only
/// with a new configuration or a cleared cache, so the verdict stays true as
/// long as the entry lives. A check that failed leaves it unset.
#[derive(Debug)]
pub struct CheckedToken {
    pub token: VerifiedToken,
    pub revoked: OnceLock<Option<usize>>,
}

impl CheckedToken {
    pub fn new(token: VerifiedToken) -> CheckedToken {
        CheckedToken {
            token,
            revoked: OnceLock::new(),
        }
    }
}

impl std::ops::Deref for CheckedToken {
    type Target = VerifiedToken;
    fn deref(&self) -> &VerifiedToken {
        &self.token
    }
}

impl Weight for CheckedToken {
    fn weight(&self) -> usize {
        self.token.heap_size()
    }
}

/// The bookkeeping of one entry besides its value's heap: the value itself
/// in its `Arc` allocation (two counters and the allocator's overhead), the
/// slab node, and the index entry (key, slot, control byte, load factor).
fn entry_overhead<V>() -> usize {
    crate::datalog::ast::heap_chunk(std::mem::size_of::<V>() + 16)
        + std::mem::size_of::<Node<V>>()
        + (std::mem::size_of::<CacheKey>() + std::mem::size_of::<usize>() + 1) * 8 / 7
}

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
    /// None: a free slot.
    value: Option<Arc<V>>,
    weight: usize,
    prev: usize,
    next: usize,
}

/// The LRU proper: a slab of nodes in a doubly linked recency list (head =
/// most recently used) plus an index from key to slot.
struct Lru<V> {
    capacity: usize,
    /// The memory budget and the weight of the entries.
    max_bytes: usize,
    bytes: usize,
    map: HashMap<CacheKey, usize>,
    nodes: Vec<Node<V>>,
    /// Slots of evicted entries, for reuse.
    free: Vec<usize>,
    head: usize,
    tail: usize,
}

impl<V> Lru<V> {
    fn new(capacity: usize) -> Lru<V> {
        Lru {
            capacity,
            max_bytes: capacity.saturating_mul(BYTES_PER_ENTRY),
            bytes: 0,
            map: HashMap::new(),
            nodes: Vec::new(),
            free: Vec::new(),
            head: NIL,
            tail: NIL,
        }
    }

    fn set_capacity(&mut self, capacity: usize) {
        self.clear();
        self.capacity = capacity;
        self.max_bytes = capacity.saturating_mul(BYTES_PER_ENTRY);
    }

    fn clear(&mut self) {
        self.map = HashMap::new();
        self.nodes = Vec::new();
        self.free = Vec::new();
        self.bytes = 0;
        self.head = NIL;
        self.tail = NIL;
    }

    /// Removes the least recently used entry.
    fn evict_tail(&mut self) {
        let i = self.tail;
        if i == NIL {
            return;
        }
        self.unlink(i);
        let key = self.nodes[i].key;
        self.map.remove(&key);
        self.bytes -= self.nodes[i].weight;
        self.nodes[i].weight = 0;
        self.nodes[i].value = None;
        self.free.push(i);
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
        self.nodes[i].value.clone()
    }

    /// Stores an entry of the given weight, evicting least recently used
    /// entries while the cache is over its capacity or its memory budget.
    fn insert(&mut self, key: CacheKey, value: Arc<V>, weight: usize) {
        if self.capacity == 0 || weight > self.max_bytes {
            return;
        }
        if let Some(&i) = self.map.get(&key) {
            // Same key, same token: keep the entry, refresh its recency.
            self.bytes = self.bytes - self.nodes[i].weight + weight;
            self.nodes[i].value = Some(value);
            self.nodes[i].weight = weight;
            if self.head != i {
                self.unlink(i);
                self.push_front(i);
            }
            while self.bytes > self.max_bytes && self.tail != i {
                self.evict_tail();
            }
            return;
        }
        while !self.map.is_empty()
            && (self.map.len() >= self.capacity || self.bytes + weight > self.max_bytes)
        {
            self.evict_tail();
        }
        let node = Node {
            key,
            value: Some(value),
            weight,
            prev: NIL,
            next: NIL,
        };
        let slot = match self.free.pop() {
            Some(i) => {
                self.nodes[i] = node;
                i
            }
            None => {
                self.nodes.push(node);
                self.nodes.len() - 1
            }
        };
        self.bytes += weight;
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
    /// Estimated bytes held by the entries, and the budget.
    pub bytes: u64,
    pub max_bytes: u64,
}

/// A bounded LRU map from [`CacheKey`] to `Arc<V>`, safe to share across
/// threads.
pub struct Cache<V> {
    inner: Mutex<Lru<V>>,
    hits: AtomicU64,
    misses: AtomicU64,
}

/// The cache of signature-checked tokens.
pub type TokenCache = Cache<CheckedToken>;

impl<V: Weight> Cache<V> {
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

    /// Stores an entry, evicting the least recently used ones when full
    /// (entries or memory).
    pub fn insert(&self, key: CacheKey, value: Arc<V>) {
        let weight = value.weight() + entry_overhead::<V>();
        self.lock().insert(key, value, weight);
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
        self.lock().set_capacity(capacity);
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
            bytes: g.bytes as u64,
            max_bytes: g.max_bytes as u64,
        }
    }
}

impl<V: Weight> Default for Cache<V> {
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

    impl Weight for u32 {
        fn weight(&self) -> usize {
            0
        }
    }
    impl Weight for u64 {
        fn weight(&self) -> usize {
            0
        }
    }

    /// A value whose weight is itself.
    #[derive(Debug, PartialEq)]
    struct Heavy(usize);
    impl Weight for Heavy {
        fn weight(&self) -> usize {
            self.0
        }
    }

    #[test]
    fn memory_budget_evicts_and_refuses_oversized() {
        let c: Cache<Heavy> = Cache::new(4);
        let budget = 4 * BYTES_PER_ENTRY;
        assert_eq!(c.stats().max_bytes as usize, budget);
        let per = entry_overhead::<Heavy>();
        // two entries of ~40 % of the budget fit; a third evicts the oldest
        let w = budget * 2 / 5;
        c.insert(k(1), Arc::new(Heavy(w)));
        c.insert(k(2), Arc::new(Heavy(w)));
        assert_eq!(c.len(), 2);
        c.insert(k(3), Arc::new(Heavy(w)));
        assert_eq!(c.len(), 2);
        assert!(c.get(&k(1)).is_none() && c.get(&k(2)).is_some() && c.get(&k(3)).is_some());
        assert_eq!(c.stats().bytes as usize, 2 * (w + per));
        // larger than the whole budget: not cached, nothing evicted
        c.insert(k(4), Arc::new(Heavy(budget)));
        assert!(c.get(&k(4)).is_none());
        assert_eq!(c.len(), 2);
        // small ones fill up to the entry capacity again, reusing freed slots
        for i in 5..20 {
            c.insert(k(i), Arc::new(Heavy(1)));
            assert!(c.stats().bytes as usize <= budget);
        }
        assert_eq!(c.len(), 4);
        let s = c.stats();
        assert_eq!(s.bytes as usize, 4 * (1 + per));
        c.clear();
        assert_eq!(c.stats().bytes, 0);
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
