//! The background work of one replica: run workers, upkeep, the event relay, the webhook dispatcher and the
//! scheduler, started together and stopped together.

use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::Platform;
use crate::engine::inline_runs::Executor;

/// How many waited runs a replica works at once by default beside its workers
/// ([`BackgroundOptions::inline_runs`]).
pub const DEFAULT_INLINE_RUNS: u32 = 64;

/// What [`Platform::spawn_background`] starts.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct BackgroundOptions {
    /// Run workers (each claims queued runs and works one at a time); 0: this process only serves.
    pub workers: u32,
    /// How long an idle worker waits before it looks at the queue again (a new run wakes it sooner).
    pub idle_poll: Duration,
    /// Also run the upkeep loop (approval expiry). Safe on every replica at once, and needed on at least one.
    pub upkeep: bool,
    /// Also run the event relay (feeds the event sink, makes webhook deliveries) and a webhook dispatcher. Safe
    /// on every replica at once, and needed on at least one.
    pub deliveries: bool,
    /// Also run the scheduler (fires due schedules). Safe on every replica at once (each fire time starts one
    /// run), and needed on at least one.
    pub scheduler: bool,
    /// Runs this replica works at once, beside its workers, for requests that wait for them (`wait` > 0): such a
    /// run is stored already claimed by this replica and worked at once, without the queue; past this many, waited
    /// runs are queued like the others. 0, or no workers: every run goes through the queue.
    pub inline_runs: u32,
}

impl Default for BackgroundOptions {
    fn default() -> Self {
        Self {
            workers: 2,
            idle_poll: Duration::from_millis(250),
            upkeep: true,
            deliveries: true,
            scheduler: true,
            inline_runs: DEFAULT_INLINE_RUNS,
        }
    }
}

impl BackgroundOptions {
    /// The defaults with `workers` workers.
    pub fn workers(workers: u32) -> Self {
        Self { workers, ..Self::default() }
    }
}

/// The running background work; [`shutdown`](Self::shutdown) stops it. Dropping it without shutting down leaves
/// the tasks running until the runtime ends.
#[derive(Debug)]
pub struct Background {
    stop: watch::Sender<bool>,
    /// Stops the runs worked for waiting requests: after the workers, so that none of this replica's workers is
    /// left to claim what they give back.
    stop_inline: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
    worker_names: Vec<String>,
    /// The platform and its executor of waited runs, when it works them.
    inline: Option<(Platform, Executor)>,
}

impl Background {
    /// The workers' names, unique across processes and replicas (a run's lease is held by name).
    pub fn worker_names(&self) -> &[String] {
        &self.worker_names
    }

    /// Stops every worker and the upkeep loop and waits for them: a worker gives the run it was working back to
    /// the queue (its attempt not counted) before it returns, and so does every run worked for a waiting request.
    pub async fn shutdown(self) {
        if let Some((platform, executor)) = &self.inline {
            platform.inner.inline_runs.stop(executor);
        }
        let _ = self.stop.send(true);
        for task in self.tasks {
            if let Err(error) = task.await
                && error.is_panic()
            {
                tracing::error!(%error, "a background task panicked");
            }
        }
        // The workers are gone: the waited runs given back now are for other replicas' workers (or this replica's
        // next start), not claimed and worked here in the moment before a worker saw the stop.
        let _ = self.stop_inline.send(true);
        if let Some((_, executor)) = &self.inline {
            executor.drained().await;
        }
        tracing::info!("background work stopped");
    }
}

impl Platform {
    /// Starts this replica's background work on the current tokio runtime: `options.workers` run workers with
    /// unique names, and the upkeep loop. Call [`Background::shutdown`] when the server stops.
    pub fn spawn_background(&self, options: BackgroundOptions) -> Background {
        let (stop, stopped) = watch::channel(false);
        let (stop_inline, inline_stopped) = watch::channel(false);
        let until_stopped = |mut stopped: watch::Receiver<bool>| async move {
            let _ = stopped.wait_for(|stop| *stop).await;
        };
        // Names must differ across replicas: a pid alone repeats (pid 1 in every container), a random process id
        // does not. The last 12 hex digits of a v7 uuid are random.
        let process = uuid::Uuid::now_v7().simple().to_string();
        let worker_names: Vec<String> =
            (0..options.workers).map(|i| format!("{}-{}-{i}", std::process::id(), &process[20..])).collect();
        let mut tasks: Vec<JoinHandle<()>> = worker_names
            .iter()
            .map(|name| {
                let (platform, name, shutdown) = (self.clone(), name.clone(), until_stopped(stopped.clone()));
                tokio::spawn(async move { platform.run_worker(name, options.idle_poll, shutdown).await })
            })
            .collect();
        if options.upkeep {
            let (platform, shutdown) = (self.clone(), until_stopped(stopped.clone()));
            tasks.push(tokio::spawn(async move { platform.run_maintenance(shutdown).await }));
        }
        if options.deliveries {
            let (platform, shutdown) = (self.clone(), until_stopped(stopped.clone()));
            tasks.push(tokio::spawn(async move { platform.run_relay(shutdown).await }));
            let (platform, shutdown) = (self.clone(), until_stopped(stopped.clone()));
            let dispatcher = format!("{}-{}-webhooks", std::process::id(), &process[20..]);
            tasks.push(tokio::spawn(async move { platform.run_dispatcher(dispatcher, shutdown).await }));
        }
        if options.scheduler {
            let (platform, shutdown) = (self.clone(), until_stopped(stopped.clone()));
            let holder = format!("{}-{}-scheduler", std::process::id(), &process[20..]);
            tasks.push(tokio::spawn(async move { platform.run_scheduler(holder, shutdown).await }));
        }
        let inline = (options.workers > 0 && options.inline_runs > 0).then(|| {
            let holder = format!("{}-{}-inline", std::process::id(), &process[20..]);
            let executor = Executor::new(holder, options.inline_runs, inline_stopped);
            self.inner.inline_runs.start(executor.clone());
            (self.clone(), executor)
        });
        tracing::info!(
            workers = worker_names.len(),
            inline_runs = inline.as_ref().map_or(0, |(_, executor)| executor.capacity()),
            upkeep = options.upkeep,
            deliveries = options.deliveries,
            scheduler = options.scheduler,
            "background work started"
        );
        Background { stop, stop_inline, tasks, worker_names, inline }
    }
}
