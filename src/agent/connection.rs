//! One client connection of an agent, the same for a user's agent (`server`)
//! and a render node's (`node`): who it is, checked before anything it sent
//! is read; then frames, the first a `Hello`, each answered in turn, until the
//! client closes, sends what cannot be read, or asks the agent to stop.

use super::peer::{peer, Peer};
use super::protocol::{decode, read_frame, write_frame, FrameError, Request, Response, WireError};
use crate::error::{Error, Result};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// What the agent does once an answer is written.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum After {
    /// Reads the connection's next request.
    Next,
    /// Stops serving (the request was a `Stop` its asker may make).
    Stop,
}

/// Listens on `socket`, replacing a socket file no agent answers on (one a
/// killed agent left); `Agent` when another agent answers there (`stop_hint`:
/// how to stop it).
pub(super) fn bind(socket: &Path, stop_hint: &str) -> Result<UnixListener> {
    if socket.exists() {
        if UnixStream::connect(socket).is_ok() {
            return Err(Error::Agent {
                socket: socket.to_path_buf(),
                what: format!(
                    "another agent is already running there; stop it ({stop_hint}), or choose another socket"
                ),
            });
        }
        std::fs::remove_file(socket)
            .map_err(|e| Error::io(format!("removing the stale socket {}", socket.display()), e))?;
    }
    UnixListener::bind(socket)
        .map_err(|e| Error::io(format!("listening on {}", socket.display()), e))
}

/// Sets `stopping` and wakes the accept loop of `listener` (its clone
/// `waker`), which then sees the flag: shutting the listening socket down makes
/// a blocked accept return (Linux); a connection to `socket` does the same
/// where it does not, while the socket file is still there. Once only.
pub(super) fn stop(stopping: &AtomicBool, waker: Option<&UnixListener>, socket: &Path) {
    if !stopping.swap(true, Ordering::SeqCst) {
        if let Some(l) = waker {
            let _ = rustix::net::shutdown(l, rustix::net::Shutdown::Read);
        }
        let _ = UnixStream::connect(socket);
    }
}

/// Accepts connections on `listener` until `stopping` is set, each served on
/// a thread of its own (named `thread_name`) by `serve`. A client the agent
/// cannot give a thread to is dropped; the rest go on.
pub(super) fn accept_until_stopped(
    listener: &UnixListener,
    stopping: &AtomicBool,
    thread_name: &str,
    serve: impl Fn(UnixStream) + Clone + Send + 'static,
) {
    for stream in listener.incoming() {
        if stopping.load(Ordering::SeqCst) {
            break;
        }
        let Ok(stream) = stream else { continue };
        let serve = serve.clone();
        let _ = std::thread::Builder::new()
            .name(thread_name.into())
            .spawn(move || serve(stream));
    }
}

/// Serves `stream` while it lasts: `admit` decides on the peer (its `Err` is
/// the refusal sent back), `answer` answers each request. Returns
/// `After::Stop` when a request asked the agent to stop. Counted in `clients`
/// while it runs.
pub(super) fn serve(
    mut stream: UnixStream,
    clients: &AtomicU64,
    admit: impl FnOnce(&Peer) -> Result<(), String>,
    mut answer: impl FnMut(Request, &Peer) -> (Response, After),
) -> After {
    clients.fetch_add(1, Ordering::SeqCst);
    let _gone = Gone(clients);
    let who = match peer(&stream)
        .map_err(|e| format!("cannot tell who connected: {e}"))
        .and_then(|p| admit(&p).map(|()| p))
    {
        Ok(p) => p,
        Err(message) => {
            let _ = write_frame(&mut stream, &Response::Error(WireError::Agent { message }));
            return After::Next;
        }
    };
    let mut greeted = false;
    loop {
        let body = match read_frame(&mut stream) {
            Ok(body) => body,
            Err(e @ FrameError::TooLarge(_)) => {
                let _ = write_frame(&mut stream, &refusal(format!("refused: {e}")));
                return After::Next;
            }
            Err(FrameError::Closed | FrameError::Io(_)) => return After::Next,
        };
        let req = match decode::<Request>(&body) {
            Ok(req) => req,
            Err(e) => {
                let _ = write_frame(&mut stream, &refusal(format!("refused: {e}")));
                return After::Next;
            }
        };
        drop(body);
        if !greeted && !matches!(req, Request::Hello { .. }) {
            let _ = write_frame(
                &mut stream,
                &refusal("refused: the first request of a connection must be Hello".into()),
            );
            return After::Next;
        }
        greeted = true;
        let (reply, after) = answer(req, &who);
        if after == After::Stop {
            let _ = write_frame(&mut stream, &reply);
            return After::Stop;
        }
        if write_frame(&mut stream, &reply).is_err() {
            return After::Next;
        }
    }
}

/// The agent's own refusal of a request or connection.
pub(super) fn refusal(message: String) -> Response {
    Response::Error(WireError::Agent { message })
}

/// Counts a connection out when it ends, however it ends.
struct Gone<'a>(&'a AtomicU64);

impl Drop for Gone<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}
