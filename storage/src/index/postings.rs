//! Postings: for every label name, the series that have it, and for every value, the series that have
//! that pair. Series refs are `u32` inside [`RoaringBitmap`]s (the index hands out refs below 2^32).

use roaring::RoaringBitmap;

use super::hash::{FxMap, map_heap_bytes};

/// Postings of one label name.
#[derive(Default)]
pub(crate) struct NamePostings {
    /// Series that have the label (with any value).
    pub(crate) all: RoaringBitmap,
    /// Value symbol → series with that value.
    pub(crate) values: FxMap<u32, RoaringBitmap>,
}

/// Label name symbol → postings.
#[derive(Default)]
pub(crate) struct Postings {
    names: FxMap<u32, NamePostings>,
}

impl Postings {
    /// Postings of a label name.
    pub(crate) fn name(&self, name: u32) -> Option<&NamePostings> {
        self.names.get(&name)
    }

    /// All label names with their postings.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (u32, &NamePostings)> + '_ {
        self.names.iter().map(|(&n, p)| (n, p))
    }

    /// Number of label names.
    pub(crate) fn num_names(&self) -> usize {
        self.names.len()
    }

    /// Adds series `r` with flattened `(name, value)` pairs.
    pub(crate) fn add(&mut self, r: u32, pairs: &[u32]) {
        for pair in pairs.chunks_exact(2) {
            let [name, value] = *pair else { continue };
            let np = self.names.entry(name).or_default();
            np.all.insert(r);
            np.values.entry(value).or_default().insert(r);
        }
    }

    /// Removes series `r`, which was added with `pairs`; drops postings that become empty.
    pub(crate) fn remove(&mut self, r: u32, pairs: &[u32]) {
        for pair in pairs.chunks_exact(2) {
            let [name, value] = *pair else { continue };
            let Some(np) = self.names.get_mut(&name) else {
                debug_assert!(false, "series {r}: label name {name} has no postings");
                continue;
            };
            np.all.remove(r);
            if let Some(bm) = np.values.get_mut(&value) {
                bm.remove(r);
                if bm.is_empty() {
                    np.values.remove(&value);
                }
            }
            if np.all.is_empty() {
                self.names.remove(&name);
            }
        }
    }

    /// Approximate heap bytes.
    pub(crate) fn heap_bytes(&self) -> usize {
        let bm = std::mem::size_of::<RoaringBitmap>();
        let mut total = map_heap_bytes(self.names.capacity(), 4 + std::mem::size_of::<NamePostings>());
        for np in self.names.values() {
            total += bitmap_heap_bytes(&np.all);
            total += map_heap_bytes(np.values.capacity(), 4 + bm);
            total += np.values.values().map(bitmap_heap_bytes).sum::<usize>();
        }
        total
    }
}

/// Approximate heap bytes of a bitmap: its container vector plus each container's store.
pub(crate) fn bitmap_heap_bytes(bm: &RoaringBitmap) -> usize {
    /// A container: a `u16` key and a store enum (a `Vec<u16>` or a boxed bitset with its length).
    const CONTAINER_BYTES: usize = 32;
    if bm.is_empty() {
        return 0;
    }
    let st = bm.statistics();
    // roaring 0.10 reports array stores at 4 bytes per slot (they hold u16s) and bitsets in bits, so
    // both are recomputed here: a bitset store is 1024 u64 words.
    let array = (st.n_bytes_array_containers / 2) as usize;
    let bitset = st.n_bitset_containers as usize * 8192;
    st.n_containers as usize * CONTAINER_BYTES + array + bitset
}
