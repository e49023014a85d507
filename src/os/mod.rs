//! Calls into the operating system that no well-kept crate wraps safely. Each
//! `unsafe` block here says why it holds; the rest of the library is safe code.
//!
//! - `fork`: counts the forks this process has made, so a handle opened
//!   before a `fork` can tell it is in the child.

pub(crate) mod fork;
