//! The emulated vendors, one directory each.

pub mod aliyun;
pub mod aries;
pub mod huawei;
pub mod jd;
