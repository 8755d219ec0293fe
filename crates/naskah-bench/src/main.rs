//! `naskah-bench`: the benchmarks that write BENCHMARKS.md, a developer tool apart from
//! the shipped `naskah` binary. `naskah-bench serve …` is the service's own command
//! line, so that the benchmarks can start the service in a process of its own.

use std::{path::PathBuf, process::ExitCode};

use clap::Parser;

/// The same allocator as the `naskah` binary, so in-process figures are the service's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Benchmarks against the Typst command line, WeasyPrint and pyHanko; writes BENCHMARKS.md.
#[derive(Parser)]
#[command(name = "naskah-bench")]
struct Args {
    /// Smaller peer counts; prints the report instead of writing BENCHMARKS.md.
    #[arg(long)]
    quick: bool,
    /// Where to write the report (default: BENCHMARKS.md for a full run).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Measure only naskah, not the peers.
    #[arg(long)]
    no_peers: bool,
    /// Do not run benches/peers.sh to install missing peers first.
    #[arg(long)]
    no_install: bool,
    /// Internal: measure only this in this process (`sk`, `sk-whole`, `letter` …).
    #[arg(long, hide = true)]
    only: Option<String>,
}

fn main() -> ExitCode {
    if std::env::args().nth(1).as_deref() == Some("serve") {
        return naskah::cli::main();
    }
    let args = Args::parse();
    let config = match naskah::config::Config::load(None) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("naskah-bench: {e}");
            return ExitCode::from(2);
        }
    };
    let options = naskah_bench::Options {
        templates_dir: config.templates_dir.clone(),
        quick: args.quick,
        out: args.out,
        peers: !args.no_peers,
        install_peers: !args.no_install,
        only: args.only,
    };
    match naskah_bench::run(&options) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("naskah-bench: {e:#}");
            ExitCode::FAILURE
        }
    }
}
