//! What IAM and STS say, as plain data: who the credentials are, a role, an OIDC provider.

/// Who the credentials are (GetCallerIdentity).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub arn: String,
    pub account: String,
    pub partition: String,
}

/// An OIDC provider as IAM holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderSeen {
    pub arn: String,
    pub client_ids: Vec<String>,
}

/// A role as IAM holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleSeen {
    pub arn: String,
    /// As IAM returns it: URL-encoded JSON.
    pub trust_policy: String,
}
