//! The `gridatlas` binary: the command line of [`gridatlas::cli`].

use std::process::ExitCode;

/// mimalloc: the server allocates a response body per request (≈ 2 KB, a "large" allocation
/// for glibc, whose `malloc_consolidate` showed in profiles); mimalloc's per-thread free lists
/// make that cheap.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    gridatlas::cli::main()
}
