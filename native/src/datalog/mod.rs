//! Datalog: the data model ([`ast`]), expression evaluation, the fixpoint
//! engine and the authorizer.

pub mod ast;
pub use ast::*;
