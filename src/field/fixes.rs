//! Fixes as they arrive: NDJSON lines and GPX files (being written).
