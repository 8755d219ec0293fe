//! The `naskah` command: serve, migrate, seed the demo, manage users, keys and regions
//! (the command line is `naskah::cli`).

use std::process::ExitCode;

/// Typst allocates and frees a great deal; with glibc's allocator a long document renders
/// about a quarter slower and peaks higher (see BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    naskah::cli::main()
}
