use lambda_runtime::{run, service_fn, tracing, Error};

// See Cargo.toml: musl's malloc returns pages to the kernel after each request.
#[global_allocator]
static ALLOCATOR: dlmalloc::GlobalDlmalloc = dlmalloc::GlobalDlmalloc;

// One event at a time per execution environment, so a single-threaded
// runtime is enough and starts faster.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    // Honours AWS_LAMBDA_LOG_FORMAT=JSON and AWS_LAMBDA_LOG_LEVEL.
    tracing::init_default_subscriber();
    run(service_fn(echo_function::handler)).await
}
