//! The flags of the dev commands (`test`, `bench`, `ensure-deb`): tooling for developing this
//! project, not for shipping a function. They run in xtask-local ([`crate::xtask_local`];
//! `bench deploy` in xtask-aws), whose `dev/` holds what they do.

pub mod apt;
pub mod bench;
pub mod test;
