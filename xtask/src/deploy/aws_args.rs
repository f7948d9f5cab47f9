//! Where the commands that call AWS send their requests, and as whom: the flags `deploy` and
//! `rollback` share, flattened into each.

#[derive(Debug, Clone, Default, clap::Args)]
pub struct AwsArgs {
    /// AWS region (default: AWS_REGION, then the profile's region).
    #[arg(long)]
    pub region: Option<String>,
    /// Named profile from ~/.aws/config (SSO, assume-role, credential_process, ...); as
    /// with the AWS CLI, it wins over keys in the environment.
    #[arg(long)]
    pub profile: Option<String>,
    /// Send requests here instead of AWS (LocalStack, moto). AWS_ENDPOINT_URL works too.
    #[arg(long, value_name = "URL")]
    pub endpoint_url: Option<String>,
}
