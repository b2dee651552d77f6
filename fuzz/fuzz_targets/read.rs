//! Fuzz target for the GeoJSON reader. Whatever the bytes:
//! - reading never panics;
//! - the streaming reader (`read`) and the in-memory one (`read_slice`) agree: the same feature
//!   set, the same problems, or both a syntax error;
//! - whatever is accepted writes and reads back to the same feature set.
#![no_main]

use gridatlas::geo_io::{ReadError, read, read_slice, write};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let from_slice = read_slice(data);
    let from_stream = read(data);
    match (&from_slice, &from_stream) {
        (Ok(a), Ok(b)) => assert_eq!(a, b),
        (Err(ReadError::Invalid(a)), Err(ReadError::Invalid(b))) => assert_eq!(a, b),
        (Err(ReadError::Syntax { .. }), Err(ReadError::Syntax { .. })) => {}
        (a, b) => panic!("read_slice and read disagree: {a:?} vs {b:?}"),
    }
    if let Ok(set) = from_slice {
        let mut out = Vec::new();
        write(&set, &mut out).expect("writing to memory");
        let again = read_slice(&out).expect("reading what was written");
        assert_eq!(set, again);
    }
});
