//! `loopguard`: replay scenarios against the supervisor in virtual time and
//! judge them. Exit codes: 0 all as expected, 1 a violation or an unexpected
//! result, 2 bad input.

mod cli;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    match cli::dispatch(args) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {}", cli::error_text(&e));
            ExitCode::from(2)
        }
    }
}
