//! `gridatlas validate` (moved here from the validate module once its layout settles).

pub use crate::validate::cli::{ValidateArgs, run};
