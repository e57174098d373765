//! The `areq` command: parses the command line and runs [`areq::cli::run`] on a tulip loop.
//!
//! The seed's counterpart is `areq.py`'s `if __name__ == "__main__":` block.

use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = areq::cli::Cli::parse();
    areq::logging::init(cli.verbosity());
    tulip::run(areq::cli::run(cli))
}
