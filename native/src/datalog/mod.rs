//! Datalog: the data model ([`ast`]), expression evaluation, the fixpoint
//! engine and the authorizer.

pub mod ast;
pub mod authorizer;
pub mod cost;
pub mod engine;
pub mod expr;
pub mod print;
pub mod regex;

pub use ast::*;
pub use authorizer::{
    authorize, authorize_outcome, AuthError, Authorization, AuthorizeInput, FailedCheck,
    MatchedPolicy, AUTHORIZER_ID,
};
pub use engine::{RunLimit, RunLimits};
pub use expr::{ConformanceExterns, ExprError, ExternFunctions};
