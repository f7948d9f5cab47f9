//! The commands that talk to AWS (`deploy`, `rollback`, `logs`, `setup-ci`, `bench deploy`) run in a
//! second binary, `xtask-aws` (package xtask/aws), so the AWS SDK and its TLS stack are
//! compiled the first time one of them runs (see [`crate::companion`]).

use std::convert::Infallible;

use anyhow::Result;

use crate::companion::{Companion, Feature};

/// The package and binary that hold the AWS commands.
pub const PACKAGE: &str = "xtask-aws";

/// Names a prebuilt `xtask-aws` to run instead of building one.
pub const BIN_ENV: &str = "XTASK_AWS_BIN";

/// What a command needs beyond Lambda, which xtask-aws compiles only with the package feature
/// of the same name: a service's SDK crate, or the benchmarks' tooling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Needs {
    /// IAM: `setup-ci`, `deploy --create` without `--role`.
    Iam,
    /// CloudWatch Logs: `logs`.
    Logs,
    /// API Gateway (v2): `deploy --api` (or a function's table declaring `api`).
    Api,
    /// moto and the benchmarks (xtask-local): `bench deploy`.
    Bench,
}

impl Needs {
    /// xtask-aws's package feature, and what its first build compiles (times measured on 2
    /// cores after a deploy's build: BENCHMARKS.md).
    pub fn feature(self) -> Feature {
        let (name, crate_name, compiles) = match self {
            Needs::Iam => (
                "iam",
                "aws_sdk_iam",
                "IAM's SDK crate, for the roles (about a minute)",
            ),
            Needs::Logs => (
                "logs",
                "aws_sdk_cloudwatchlogs",
                "CloudWatch Logs's SDK crate (about 20 s)",
            ),
            Needs::Api => (
                "api",
                "aws_sdk_apigatewayv2",
                "API Gateway's SDK crate (about 20 s)",
            ),
            Needs::Bench => (
                "bench",
                "xtask_local",
                "moto's server and the benchmarks (xtask-local, seconds)",
            ),
        };
        Feature {
            name,
            crate_name,
            compiles,
        }
    }
}

/// Builds `xtask-aws` with the services the command `needs` besides Lambda (a no-op when it is
/// up to date) and execs it with our arguments.
pub fn exec(needs: &[Needs]) -> Result<Infallible> {
    let features: Vec<Feature> = needs.iter().map(|n| n.feature()).collect();
    Companion {
        package: PACKAGE,
        bin_env: BIN_ENV,
        compiles: "the AWS SDK for the commands that call AWS",
        takes: "a few minutes",
        runs: "the commands that talk to AWS",
    }
    .exec(&features)
}
