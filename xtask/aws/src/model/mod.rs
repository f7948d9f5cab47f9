//! The bottom layer: what AWS says, as plain data, and the decisions over it that more than
//! one command or step shares, all pure: failures and their sentences, time limits, a function,
//! its aliases, its URL's grants and its HTTP API, its log events, IAM's roles and
//! providers, policy documents.

pub mod alias;
pub mod api;
pub mod failure;
pub mod function;
pub mod iam;
pub mod log;
pub mod policy;
pub mod timeouts;
pub mod url;
