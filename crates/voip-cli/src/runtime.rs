//! Running a command's async body on a current-thread runtime, with the command's
//! name on every failure line.

use std::future::Future;
use std::process::ExitCode;

/// Runs `body` to its end: exit status 0 when it succeeds, 1 with `voip NAME:
/// reason` on standard error when it fails or the runtime cannot start.
pub(crate) fn run<F>(name: &str, body: F) -> ExitCode
where
    F: Future<Output = Result<(), String>>,
{
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("voip {name}: cannot start the runtime: {e}");
            return ExitCode::from(1);
        }
    };
    match rt.block_on(body) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("voip {name}: {e}");
            ExitCode::from(1)
        }
    }
}
