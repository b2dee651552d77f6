//! Fuzz target: the GeoJSON reader must never panic, whatever the bytes, and whatever it
//! accepts must write and read back to the same feature set.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(set) = gridatlas::geo_io::read_slice(data) {
        let mut out = Vec::new();
        gridatlas::geo_io::write(&set, &mut out).expect("writing to memory");
        let again = gridatlas::geo_io::read_slice(&out).expect("reading what was written");
        assert_eq!(set, again);
    }
});
