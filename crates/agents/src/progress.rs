//! A progress bar for registry fetches: drawn on stderr only when it is a terminal, only for
//! fetches that take more than a moment, and never under `--quiet`.

use std::io::IsTerminal as _;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long a fetch runs before a bar is worth drawing.
const DELAY: Duration = Duration::from_millis(300);

pub(crate) struct FetchProgress {
    state: Mutex<State>,
    /// HTTP requests (sparse registries): shared with the thread that shows a wait that lasts.
    http: std::sync::Arc<Mutex<Requests>>,
}

/// The HTTP requests under way and done since the first of them.
#[derive(Default)]
struct Requests {
    /// Requests under way, by URL, with when each started.
    pending: Vec<(String, Instant)>,
    /// Files and bytes received since the first request of this run of requests.
    files: usize,
    bytes: usize,
    bar: Option<indicatif::ProgressBar>,
    /// Bumped whenever no request is under way: a timer started for an older run does nothing.
    generation: u64,
}

impl Requests {
    fn message(&self) -> String {
        let mut parts = Vec::new();
        if self.files > 0 {
            parts.push(format!("{} files, {}", self.files, indicatif::HumanBytes(self.bytes as u64)));
        }
        if let Some((url, at)) = self.pending.iter().min_by_key(|(_, at)| *at) {
            let url = crate::printer::terminal_safe(url);
            parts.push(format!("waiting {} s for {url}", at.elapsed().as_secs()));
        }
        parts.join(", ")
    }
}

#[derive(Default)]
struct State {
    started: Option<Instant>,
    bar: Option<indicatif::ProgressBar>,
}

impl FetchProgress {
    /// A progress reporter, or `None` when nobody would see it.
    pub(crate) fn for_terminal(quiet: bool) -> Option<FetchProgress> {
        (!quiet && std::io::stderr().is_terminal())
            .then(|| FetchProgress { state: Mutex::new(State::default()), http: std::sync::Arc::default() })
    }
}

impl agents_registry::Progress for FetchProgress {
    fn update(&self, url: &str, received: usize, total: usize, bytes: usize) {
        let mut state = self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let started = *state.started.get_or_insert_with(Instant::now);
        if state.bar.is_none() && started.elapsed() >= DELAY {
            let bar = indicatif::ProgressBar::new(total as u64);
            bar.set_style(
                indicatif::ProgressStyle::with_template("{prefix:>12.cyan.bold} [{bar:30}] {pos}/{len} objects, {msg}")
                    .expect("the template is valid")
                    .progress_chars("=> "),
            );
            bar.set_prefix("Fetching");
            bar.println(format!("{:>12} {}", "Fetching", crate::printer::terminal_safe(url)));
            state.bar = Some(bar);
        }
        if let Some(bar) = &state.bar {
            bar.set_length(total as u64);
            bar.set_position(received as u64);
            bar.set_message(indicatif::HumanBytes(bytes as u64).to_string());
        }
    }

    fn finish(&self, _url: &str) {
        let mut state = self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(bar) = state.bar.take() {
            bar.finish_and_clear();
        }
        state.started = None;
    }

    /// The first request of a run starts a timer: if requests are still under way after
    /// [`DELAY`], a spinner shows the files received so far and the longest wait, by URL (a
    /// host that accepts and never answers is named while the command waits for it).
    fn request(&self, url: &str) {
        let mut requests = lock(&self.http);
        requests.pending.push((url.to_owned(), Instant::now()));
        if requests.pending.len() > 1 || requests.bar.is_some() {
            return;
        }
        let generation = requests.generation;
        let shared = std::sync::Arc::clone(&self.http);
        std::thread::spawn(move || {
            std::thread::sleep(DELAY);
            let mut requests = lock(&shared);
            if requests.generation != generation || requests.pending.is_empty() || requests.bar.is_some() {
                return;
            }
            let bar = indicatif::ProgressBar::new_spinner();
            bar.set_style(
                indicatif::ProgressStyle::with_template("{prefix:>12.cyan.bold} {spinner} {msg}")
                    .expect("the template is valid"),
            );
            bar.set_prefix("Fetching");
            bar.set_message(requests.message());
            bar.enable_steady_tick(Duration::from_millis(100));
            requests.bar = Some(bar.clone());
            drop(requests);
            // Keep the waiting time current while requests are under way.
            loop {
                std::thread::sleep(Duration::from_millis(500));
                let requests = lock(&shared);
                match &requests.bar {
                    Some(bar) if requests.generation == generation => bar.set_message(requests.message()),
                    _ => return,
                }
            }
        });
    }

    fn response(&self, url: &str, bytes: usize) {
        let mut requests = lock(&self.http);
        if let Some(position) = requests.pending.iter().position(|(pending, _)| pending == url) {
            requests.pending.remove(position);
        }
        requests.files += usize::from(bytes > 0);
        requests.bytes += bytes;
        if requests.pending.is_empty() {
            if let Some(bar) = requests.bar.take() {
                bar.finish_and_clear();
            }
            requests.generation += 1;
            requests.files = 0;
            requests.bytes = 0;
        } else if let Some(bar) = &requests.bar {
            bar.set_message(requests.message());
        }
    }
}

fn lock(requests: &Mutex<Requests>) -> std::sync::MutexGuard<'_, Requests> {
    requests.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}
