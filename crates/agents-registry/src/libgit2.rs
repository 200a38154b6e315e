//! Process-wide libgit2 settings, applied once at start-up by each binary.
//!
//! libgit2 maps pack files in windows of 1 GiB (on 64-bit) and keeps up to 8 GiB of them mapped.
//! Pages of a mapped pack that a command touched count as its resident memory, so reading the
//! objects spread over a 100,000-agent registry (a 1.6 GB pack) cost over 100 MiB: installing
//! 50 agents peaked at 72 MiB, and 27 MiB with these limits. Smaller windows under a mapped
//! limit keep a command's footprint near what it reads at one time; a window is re-mapped (no
//! copy, the page cache keeps the data) when it is needed again.

/// Size of one mapped window of a pack file.
const WINDOW: usize = 8 << 20;
/// The most pack data mapped at once; least recently used windows are unmapped beyond it.
const MAPPED_LIMIT: usize = 16 << 20;

/// Applies the settings. Call it first thing in `main`, before any thread or repository exists.
#[allow(unsafe_code)]
pub fn configure() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // SAFETY: these setters write libgit2's global options, which must not race with other
        // libgit2 calls. Each binary calls this at the top of `main`, while it has one thread
        // and has not touched libgit2 (the `Once` guards against a second call).
        unsafe {
            let _ = git2::opts::set_mwindow_size(WINDOW);
            let _ = git2::opts::set_mwindow_mapped_limit(MAPPED_LIMIT);
        }
    });
}
