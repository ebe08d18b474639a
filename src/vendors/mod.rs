//! The emulated vendors, one directory each.

pub mod aries;
pub mod jd;
