//! A Ballista cluster on loopback for trying `posture --engine` and for
//! `bench/cluster.sh`: one scheduler and N executors (each with its own
//! Flight port and work folder) in this process, until it is killed.
//!
//! ```sh
//! cargo run --release --features ballista --example cluster -- 2
//! # prints: df://localhost:PORT
//! ```
//!
//! A real cluster runs the released `ballista-scheduler` and
//! `ballista-executor` binaries instead (docs/scale-out.md).

use std::io::Write;

use ballista_core::serde::BallistaCodec;
use ballista_core::serde::protobuf::scheduler_grpc_client::SchedulerGrpcClient;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // The scheduler's and executors' logs on stderr, e.g. RUST_LOG=info.
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    // Decoding and planning deep plans recurses deeply.
    tokio::runtime::Builder::new_multi_thread()
        .thread_stack_size(32 << 20)
        .enable_all()
        .build()?
        .block_on(serve())
}

async fn serve() -> Result<(), Box<dyn std::error::Error>> {
    let executors: usize = std::env::args().nth(1).map_or(Ok(2), |n| n.parse())?;
    let tasks_per_executor: usize = std::env::args().nth(2).map_or(Ok(1), |n| n.parse())?;
    let addr = ballista_scheduler::standalone::new_standalone_scheduler().await?;
    let url = format!("http://localhost:{}", addr.port());
    for _ in 0..executors {
        let scheduler = loop {
            match SchedulerGrpcClient::connect(url.clone()).await {
                Ok(client) => break client,
                Err(_) => tokio::time::sleep(std::time::Duration::from_millis(50)).await,
            }
        };
        ballista_executor::new_standalone_executor(
            scheduler,
            tasks_per_executor,
            BallistaCodec::default(),
        )
        .await?;
    }
    let mut out = std::io::stdout();
    writeln!(out, "df://localhost:{}", addr.port())?;
    out.flush()?;
    eprintln!(
        "scheduler on localhost:{} with {executors} executors of {tasks_per_executor} task(s); stop it with Ctrl-C",
        addr.port()
    );
    // Serves until a signal ends the process.
    std::future::pending::<()>().await;
    Ok(())
}
