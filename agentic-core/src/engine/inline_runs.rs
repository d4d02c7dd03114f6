//! Waited runs worked by the replica that accepted them. A request that waits for its run (`wait` > 0) would
//! otherwise store it queued, wake a worker, let the worker claim it (a second write) and wait for the worker to
//! finish; and the replica's workers cap how many runs it works at once however many requests wait. Instead, the
//! run is stored already claimed under a lease of this replica's and worked by a task of its own, exactly as a
//! worker works a claimed run: the lease is renewed while working, every write is fenced by it, a cancel stops it,
//! and at shutdown the run is given back to the queue. A crash leaves a `running` run whose lease lapses, and any
//! replica's worker takes it over, as for a crashed worker. The number of such runs at once is bounded
//! ([`BackgroundOptions::inline_runs`](super::BackgroundOptions::inline_runs)); past the bound a waited run goes
//! through the queue.

use std::sync::Arc;

use parking_lot::Mutex;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};

/// Whether, and under which lease holder, this replica works waited runs itself; set while its background work
/// runs (see [`Platform::spawn_background`](crate::Platform::spawn_background)).
#[derive(Debug, Default)]
pub(crate) struct InlineRuns {
    executor: Mutex<Option<Executor>>,
}

/// What [`InlineRuns`] hands out slots from.
#[derive(Clone, Debug)]
pub(crate) struct Executor {
    /// The lease holder of the runs worked inline (unique across replicas, like a worker's name).
    worker: Arc<str>,
    slots: Arc<Semaphore>,
    capacity: u32,
    stopped: watch::Receiver<bool>,
}

impl Executor {
    /// An executor of at most `capacity` runs at once, which stops when `stopped` turns true.
    pub(crate) fn new(worker: String, capacity: u32, stopped: watch::Receiver<bool>) -> Self {
        let slots = Arc::new(Semaphore::new(usize::try_from(capacity).unwrap_or(usize::MAX)));
        Self { worker: worker.into(), slots, capacity, stopped }
    }

    /// How many runs it works at once at most.
    pub(crate) fn capacity(&self) -> u32 {
        self.capacity
    }

    /// Resolves once every slot is free again: every run worked inline has ended or been given back.
    pub(crate) async fn drained(&self) {
        // Closing would fail the acquire below; the executor is already unset, so nobody new takes a slot.
        let _ = self.slots.acquire_many(self.capacity).await;
    }
}

impl InlineRuns {
    /// Lets waited runs be worked here from now on.
    pub(crate) fn start(&self, executor: Executor) {
        *self.executor.lock() = Some(executor);
    }

    /// Stops handing out slots, if `executor` is the one handing them out.
    pub(crate) fn stop(&self, executor: &Executor) {
        let mut current = self.executor.lock();
        if current.as_ref().is_some_and(|c| Arc::ptr_eq(&c.slots, &executor.slots)) {
            *current = None;
        }
    }

    /// A slot to work one run in, if this replica works waited runs, is not stopping and has one free.
    pub(crate) fn slot(&self) -> Option<InlineSlot> {
        let executor = self.executor.lock().clone()?;
        // Stopped, or its background work dropped without a shutdown (the sender is gone).
        if *executor.stopped.borrow() || executor.stopped.has_changed().is_err() {
            return None;
        }
        let permit = Arc::clone(&executor.slots).try_acquire_owned().ok()?;
        Some(InlineSlot { worker: executor.worker, stopped: executor.stopped, _permit: permit })
    }
}

/// The right to work one run inline, held until the run ends or is given back.
#[derive(Debug)]
pub(crate) struct InlineSlot {
    worker: Arc<str>,
    stopped: watch::Receiver<bool>,
    _permit: OwnedSemaphorePermit,
}

impl InlineSlot {
    /// The lease holder the run is claimed by.
    pub(crate) fn worker(&self) -> &str {
        &self.worker
    }

    /// Resolves when the replica stops its background work (the run is then given back).
    pub(crate) async fn stopping(&self) {
        let mut stopped = self.stopped.clone();
        let _ = stopped.wait_for(|stop| *stop).await;
    }
}
