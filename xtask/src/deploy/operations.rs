//! The Lambda API operations `deploy` and `rollback` call: one list for the code that makes the
//! calls and for the IAM policy that allows them (`cargo xtask iam-policy`, `setup-ci`), so the
//! two cannot drift.
//!
//! Checked from both sides in `xtask-aws`: a unit test reads its Lambda calls from the source
//! and compares them with this list, and the deploy tests check that every request a deploy
//! sends, whatever the scenario, is for an operation listed here.

macro_rules! operations {
    ($($(#[$doc:meta])* $op:ident,)*) => {
        /// One Lambda API operation `deploy` may call.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Operation {
            $($(#[$doc])* $op,)*
        }

        impl Operation {
            /// Every operation, in the order the permissions policy lists them.
            pub const ALL: &'static [Operation] = &[$(Operation::$op,)*];

            /// The operation's name in the Lambda API (and in the SDK's request metadata).
            pub fn name(self) -> &'static str {
                match self {
                    $(Operation::$op => stringify!($op),)*
                }
            }
        }
    };
}

operations! {
    /// Reads the function; also polls an update until it settles.
    GetFunction,
    UpdateFunctionCode,
    /// `--publish` and `--alias`.
    PublishVersion,
    /// `--alias`: its version and RevisionId before anything changes, so a move is guarded;
    /// `rollback`: what the alias's description records.
    GetAlias,
    /// `--alias`, when the alias exists; `rollback`.
    UpdateAlias,
    /// `--alias`, when it does not.
    CreateAlias,
    /// `--smoke-event`: the published version, before the alias moves (IAM action
    /// `lambda:InvokeFunction`).
    Invoke,
    /// `--create` only.
    CreateFunction,
    /// The declared settings, when they differ from the function's.
    UpdateFunctionConfiguration,
    /// `--smoke-event` of a function URL in RESPONSE_STREAM mode (IAM action
    /// `lambda:InvokeFunction`, as Invoke's).
    InvokeWithResponseStream,
    /// `--url`, and the check of a declared `invoke-mode` (a read: CI makes it).
    GetFunctionUrlConfig,
    /// `--url` only.
    CreateFunctionUrlConfig,
    /// A declared `invoke-mode` the URL does not have yet.
    UpdateFunctionUrlConfig,
    /// `--url`, and `--api`'s check that API Gateway may invoke the function (a read: CI's
    /// rerun with `api` declared makes it).
    GetPolicy,
    /// `--url` and `--api`.
    AddPermission,
}

impl Operation {
    /// The IAM action that allows it, e.g. `lambda:UpdateFunctionCode`.
    pub fn iam_action(self) -> String {
        match self {
            // The operations whose IAM action has another name.
            Operation::Invoke | Operation::InvokeWithResponseStream => {
                "lambda:InvokeFunction".to_string()
            }
            other => format!("lambda:{}", other.name()),
        }
    }

    /// Needed to deploy to a function that already exists: everything but the one-time
    /// actions, CreateFunction (`--create`, which also needs `iam:PassRole` on the execution
    /// role) and the Function URL's (`--url`).
    pub fn updates_existing(self) -> bool {
        !self.one_time()
    }

    /// `--create`'s, `--url`'s and the writes of `--api`: a person runs those once, with
    /// broader rights than CI's.
    pub fn one_time(self) -> bool {
        matches!(
            self,
            Operation::CreateFunction
                | Operation::CreateFunctionUrlConfig
                | Operation::UpdateFunctionUrlConfig
                | Operation::AddPermission
        )
    }

    pub fn from_name(name: &str) -> Option<Operation> {
        Operation::ALL.iter().copied().find(|op| op.name() == name)
    }
}

impl std::fmt::Display for Operation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_iam_actions() {
        assert_eq!(Operation::UpdateFunctionCode.name(), "UpdateFunctionCode");
        assert_eq!(Operation::GetFunction.iam_action(), "lambda:GetFunction");
        assert_eq!(Operation::Invoke.iam_action(), "lambda:InvokeFunction");
        for op in Operation::ALL {
            assert_eq!(Operation::from_name(op.name()), Some(*op));
        }
        assert_eq!(Operation::from_name("DeleteFunction"), None);
        assert!(!Operation::CreateFunction.updates_existing());
        assert!(Operation::UpdateFunctionConfiguration.updates_existing());
        assert!(!Operation::AddPermission.updates_existing());
    }
}
