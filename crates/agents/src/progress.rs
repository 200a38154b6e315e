//! A progress bar for registry fetches: drawn on stderr only when it is a terminal, only for
//! fetches that take more than a moment, and never under `--quiet`.

use std::io::IsTerminal as _;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long a fetch runs before a bar is worth drawing.
const DELAY: Duration = Duration::from_millis(300);

pub(crate) struct FetchProgress {
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    started: Option<Instant>,
    bar: Option<indicatif::ProgressBar>,
}

impl FetchProgress {
    /// A progress reporter, or `None` when nobody would see it.
    pub(crate) fn for_terminal(quiet: bool) -> Option<FetchProgress> {
        (!quiet && std::io::stderr().is_terminal()).then(|| FetchProgress { state: Mutex::new(State::default()) })
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
}
