//! Clean-up for work abandoned midway: when a future is dropped before it finishes (a worker that lost its run's
//! lease drops the run's work), async clean-up cannot run in `Drop`, so this guard spawns it instead.

use std::future::Future;
use std::pin::Pin;

/// Spawns its clean-up on the current runtime if dropped before [`disarm`](Self::disarm).
pub(crate) struct OnAbandon(Option<Pin<Box<dyn Future<Output = ()> + Send>>>);

impl OnAbandon {
    /// Arms the guard with `cleanup`, which runs only if the guard is dropped armed.
    pub(crate) fn new(cleanup: impl Future<Output = ()> + Send + 'static) -> Self {
        Self(Some(Box::pin(cleanup)))
    }

    /// The work finished: nothing to clean up.
    pub(crate) fn disarm(mut self) {
        self.0 = None;
    }
}

impl Drop for OnAbandon {
    fn drop(&mut self) {
        if let (Some(cleanup), Ok(runtime)) = (self.0.take(), tokio::runtime::Handle::try_current()) {
            runtime.spawn(cleanup);
        }
    }
}
