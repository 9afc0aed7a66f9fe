//! Where a query runs: in this process (the default) or on a DataFusion
//! Ballista cluster (`--engine df://HOST:PORT`, built with the `ballista`
//! feature). Both get the same session: the same tables, views and SQL.

use std::fmt;
use std::str::FromStr;

use anyhow::Result;
use datafusion::execution::runtime_env::RuntimeEnv;
use datafusion::execution::{SessionState, SessionStateBuilder};
use datafusion::prelude::{SessionConfig, SessionContext};

/// The engine that runs a session's plans.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum EngineKind {
    /// DataFusion in this process.
    #[default]
    Local,
    /// A Ballista scheduler, as `df://HOST:PORT`.
    Cluster(String),
}

impl FromStr for EngineKind {
    type Err = String;

    fn from_str(s: &str) -> Result<EngineKind, String> {
        if s == "local" {
            return Ok(EngineKind::Local);
        }
        let url = url::Url::parse(s).map_err(|e| format!("`{s}` is not `local` or a URL: {e}"))?;
        if url.scheme() != "df" || url.host_str().is_none() {
            return Err(format!(
                "`{s}` is not `local` or a Ballista scheduler as `df://HOST:PORT`"
            ));
        }
        Ok(EngineKind::Cluster(s.to_owned()))
    }
}

impl fmt::Display for EngineKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EngineKind::Local => f.write_str("local"),
            EngineKind::Cluster(url) => f.write_str(url),
        }
    }
}

/// A session whose plans run on `engine`.
pub async fn context(
    engine: &EngineKind,
    config: SessionConfig,
    runtime: std::sync::Arc<RuntimeEnv>,
) -> Result<SessionContext> {
    match engine {
        EngineKind::Local => Ok(SessionContext::new_with_state(state(config, runtime))),
        EngineKind::Cluster(url) => remote(url, config, runtime).await,
    }
}

fn state(config: SessionConfig, runtime: std::sync::Arc<RuntimeEnv>) -> SessionState {
    SessionStateBuilder::new()
        .with_config(config)
        .with_runtime_env(runtime)
        .with_default_features()
        .build()
}

#[cfg(feature = "ballista")]
async fn remote(
    url: &str,
    config: SessionConfig,
    runtime: std::sync::Arc<RuntimeEnv>,
) -> Result<SessionContext> {
    use anyhow::Context;
    use ballista::prelude::{SessionConfigExt, SessionContextExt};
    // Ballista 55's adaptive planner (on by default) loses track of a
    // stage's task metrics on the report's plans ("task metrics array size
    // 5 does not equal with the stage metrics array size 6") and the job
    // never finishes; the static planner runs them (docs/scale-out.md).
    let config = config
        .upgrade_for_ballista()
        .with_ballista_adaptive_query_planner(false);
    SessionContext::remote_with_state(url, state(config, runtime))
        .await
        .with_context(|| format!("cannot use the Ballista scheduler at `{url}`"))
}

#[cfg(not(feature = "ballista"))]
async fn remote(
    url: &str,
    _config: SessionConfig,
    _runtime: std::sync::Arc<RuntimeEnv>,
) -> Result<SessionContext> {
    anyhow::bail!(crate::Hinted::new(
        format!("cannot use the cluster `{url}`: this `posture` was built without Ballista"),
        "build it with `cargo build --release --features ballista`, or use `--engine local`",
    ))
}

#[cfg(test)]
mod tests {
    use super::EngineKind;

    #[test]
    fn parses_local_and_scheduler_urls() {
        assert_eq!("local".parse(), Ok(EngineKind::Local));
        assert_eq!(
            "df://127.0.0.1:50050".parse(),
            Ok(EngineKind::Cluster("df://127.0.0.1:50050".into()))
        );
        assert!("http://127.0.0.1:50050".parse::<EngineKind>().is_err());
        assert!("cluster".parse::<EngineKind>().is_err());
    }
}
