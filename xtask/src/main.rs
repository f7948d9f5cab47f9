use clap::Parser;

fn main() -> std::process::ExitCode {
    xtask::run(xtask::Cli::parse())
}
