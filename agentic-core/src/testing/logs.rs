//! Reading what the platform logs, for tests that check a log line is there (or that a secret is not).

use std::io::Write;
use std::sync::{Arc, Mutex, PoisonError};

/// Collects what a `tracing` subscriber writes: pass [`LogCapture::make_writer`] to
/// `tracing_subscriber::fmt().with_writer(..)`, then read [`LogCapture::text`].
#[derive(Clone, Debug, Default)]
pub struct LogCapture(Arc<Mutex<Vec<u8>>>);

impl LogCapture {
    /// A writer factory (`tracing_subscriber`'s `MakeWriter` is implemented for such closures).
    pub fn make_writer(&self) -> impl Fn() -> LogCapture + Send + Sync + 'static {
        let capture = self.clone();
        move || capture.clone()
    }

    /// Everything written so far, as text (invalid UTF-8 replaced).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap_or_else(PoisonError::into_inner)).into_owned()
    }
}

impl Write for LogCapture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
