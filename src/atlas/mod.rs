//! The atlas: an immutable in-memory index over one feature set. (Being written.)
