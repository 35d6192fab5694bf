//! Intentionally empty build script. Its build-dependencies (see Cargo.toml) pin the host-side features
//! of crates that RocksDB's binding generator (bindgen) also uses, so that building this crate alone
//! (`cargo test -p strata-storage`) resolves the same features as the whole workspace does — otherwise
//! Cargo treats bindgen as different and recompiles RocksDB's C++ (15 minutes on 2 cores) per selection.
fn main() {
    println!("cargo:rerun-if-changed=build.rs");
}
