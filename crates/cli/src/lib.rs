//! The pieces behind the `meshhunt` binary: ingesting inputs into a lake,
//! running hunts over it, the run summary, and the demo estate generator.

pub mod live;
pub mod pipeline;
pub mod simulate;
pub mod summary;
