fn main() -> std::process::ExitCode {
    xtask_local::cli::main()
}
