fn main() -> std::process::ExitCode {
    xtask_aws::cli::main()
}
