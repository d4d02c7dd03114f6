//! In-process wake-ups: a queued run wakes one idle worker; an ended run wakes only the requests waiting for
//! that run. Both are shortcuts over polling, which still finds runs queued or ended on other replicas.

use std::collections::HashMap;
use std::sync::Arc;

use parking_lot::Mutex;
use tokio::sync::Notify;

use crate::ids::RunId;

/// Wake-ups for this process's workers and waiters.
#[derive(Debug, Default)]
pub(crate) struct RunSignals {
    queued: Notify,
    /// One `Notify` per run somebody here is waiting for, shared by that run's waiters, and how many they are.
    waiting: Mutex<HashMap<RunId, (Arc<Notify>, usize)>>,
}

impl RunSignals {
    /// Tells one idle worker there is work (or lets the next one to idle skip its sleep).
    pub(crate) fn run_queued(&self) {
        self.queued.notify_one();
    }

    /// Resolves when [`run_queued`](Self::run_queued) is called.
    pub(crate) async fn queued(&self) {
        self.queued.notified().await;
    }

    /// Wakes whoever watches `run`: the requests waiting for it to end, and its worker's cancel watch.
    pub(crate) fn run_changed(&self, run: RunId) {
        if let Some((notify, _)) = self.waiting.lock().get(&run) {
            notify.notify_waiters();
        }
    }

    /// Registers interest in `run` ending; the entry goes away with the last interested waiter.
    pub(crate) fn watch(&self, run: RunId) -> RunWatch<'_> {
        let mut waiting = self.waiting.lock();
        let (notify, waiters) = waiting.entry(run).or_default();
        *waiters += 1;
        RunWatch { signals: self, run, notify: Arc::clone(notify) }
    }
}

/// A waiter's interest in one run (see [`RunSignals::watch`]).
pub(crate) struct RunWatch<'a> {
    signals: &'a RunSignals,
    run: RunId,
    notify: Arc<Notify>,
}

impl RunWatch<'_> {
    /// The `Notify` to wait on; create its `notified()` future and enable it before reading the run.
    pub(crate) fn notify(&self) -> &Notify {
        &self.notify
    }
}

impl Drop for RunWatch<'_> {
    fn drop(&mut self) {
        let mut waiting = self.signals.waiting.lock();
        if let Some((_, waiters)) = waiting.get_mut(&self.run) {
            *waiters -= 1;
            if *waiters == 0 {
                waiting.remove(&self.run);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn only_the_ended_runs_waiters_wake_and_entries_do_not_leak() {
        let signals = RunSignals::default();
        let (a, b) = (RunId::new(), RunId::new());
        let (wa1, wa2, wb) = (signals.watch(a), signals.watch(a), signals.watch(b));
        {
            let (fa1, fa2, fb) = (wa1.notify().notified(), wa2.notify().notified(), wb.notify().notified());
            tokio::pin!(fa1, fa2, fb);
            for f in [fa1.as_mut(), fa2.as_mut(), fb.as_mut()] {
                f.enable();
            }
            signals.run_changed(a);
            fa1.await;
            fa2.await;
            let woke_b = tokio::time::timeout(std::time::Duration::from_millis(20), fb).await.is_ok();
            assert!(!woke_b, "b did not end");
        }
        drop(wa1);
        assert_eq!(signals.waiting.lock().len(), 2, "a still has a waiter");
        drop((wa2, wb));
        assert!(signals.waiting.lock().is_empty());
    }
}
