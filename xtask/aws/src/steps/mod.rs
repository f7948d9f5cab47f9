//! The steps the flows are made of, each over the service clients: waiting on Lambda and
//! sending again after a conflict (`wait`), the declared settings applied (`settings`),
//! `--create`'s execution role and CreateFunction (`role`), `--url` (`url`), `--api` (`api`),
//! the alias move (`alias`).

pub mod alias;
pub mod api;
pub mod role;
pub mod settings;
pub mod url;
pub mod wait;
