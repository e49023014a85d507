//! The panic boundary of every exported function, and the value each return type
//! gives back when a call fails (rustls-ffi's `PanicOrDefault`/`NullParameterOrDefault`,
//! folded into one trait because farmvault reports both through the last error).

use super::result::{fv_result, set_last_error, Failure};
use std::panic::{catch_unwind, AssertUnwindSafe};

/// What a non-`fv_result` function returns when it fails (a NULL or invalid argument,
/// or a panic): chosen once per type. The message goes to the thread's last error.
pub(crate) trait Fallback {
    /// The value returned on failure.
    const FALLBACK: Self;
}

impl<T> Fallback for *const T {
    const FALLBACK: Self = std::ptr::null();
}

impl<T> Fallback for *mut T {
    const FALLBACK: Self = std::ptr::null_mut();
}

impl Fallback for bool {
    const FALLBACK: Self = false;
}

impl Fallback for u32 {
    const FALLBACK: Self = 0;
}

impl Fallback for u64 {
    const FALLBACK: Self = 0;
}

impl Fallback for usize {
    const FALLBACK: Self = 0;
}

impl Fallback for () {
    const FALLBACK: Self = ();
}

/// Records a panic as the last error. Only a `&'static str` payload (an `expect`
/// message, written in the source) is shown: a formatted payload might hold runtime
/// data, and runtime data might be a secret.
fn record_panic(function: &str, payload: &(dyn std::any::Any + Send)) {
    let detail = payload
        .downcast_ref::<&'static str>()
        .copied()
        .unwrap_or("details withheld");
    set_last_error(&format!(
        "farmvault panicked in {function}: {detail} (a bug; please report it)"
    ));
}

/// Runs the body of an `fv_result` function: `Ok` is `FV_OK`, a failure records its
/// message and returns its code, a panic records one and returns `FV_PANIC`.
pub(crate) fn result(function: &str, body: impl FnOnce() -> Result<(), Failure>) -> fv_result {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(())) => fv_result::FV_OK,
        Ok(Err(failure)) => failure.record(),
        Err(payload) => {
            record_panic(function, payload.as_ref());
            fv_result::FV_PANIC
        }
    }
}

/// Runs the body of any other function: a failure or a panic records its message and
/// returns `fallback` (the type's [`Fallback::FALLBACK`] unless the function chose one).
pub(crate) fn value<T>(
    function: &str,
    fallback: T,
    body: impl FnOnce() -> Result<T, Failure>,
) -> T {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(v)) => v,
        Ok(Err(failure)) => {
            set_last_error(&failure.message);
            fallback
        }
        Err(payload) => {
            record_panic(function, payload.as_ref());
            fallback
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ffi::result::last_error_message;

    #[test]
    fn panics_become_fv_panic_without_runtime_detail() {
        let code = result("fv_test", || panic!("static detail"));
        assert_eq!(code, fv_result::FV_PANIC);
        assert!(last_error_message().contains("fv_test: static detail"));
        let secret = String::from("hunter2");
        let p: *const u8 = value("fv_test2", std::ptr::null(), || panic!("leak {secret}"));
        assert!(p.is_null());
        let msg = last_error_message();
        assert!(
            !msg.contains("hunter2") && msg.contains("details withheld"),
            "{msg}"
        );
    }
}
