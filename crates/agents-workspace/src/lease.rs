//! Read leases (Linux `fcntl(F_SETLEASE, F_RDLCK)`), so a swap never takes a file from under a
//! program that has it open for writing.
//!
//! A compare-and-swap replace checks the bytes it swapped out, but a program that opened the
//! file before the swap and writes after the check writes into the inode swapped out, and its
//! write is lost (an editor that opens, then writes 15 ms later, lost 7 saves of 81 that way).
//! A read lease closes both ways in: it cannot be taken while any process has the file open for
//! writing (the swap waits for a later pass), and an `open` for writing while it is held waits
//! in the kernel until it is released, which shows as a broken lease: the swap is undone before
//! the lease is released, so that `open` lands on the user's file at its name.
//!
//! The kernel tells a lease's holder of a break with a signal (`SIGIO` by default, which ends a
//! process that does not handle it). The lease is asked to use `SIGURG` instead, whose default is
//! to be ignored and which nothing in these programs handles, and the file's owner is cleared
//! once the lease is held, so no signal is sent at all. The break is read with `F_GETLEASE`.
//!
//! Where leases are not available (another system, a file system without them, a file this
//! account does not own and no `CAP_LEASE`), swaps work as before: with the window described in
//! ARCHITECTURE.md.

use std::os::fd::OwnedFd;

/// What taking a lease on a file gave.
pub(crate) enum Lease {
    /// Held until dropped.
    Held(Held),
    /// A process has the file open for writing: swapping it now could lose what it writes.
    OpenForWriting,
    /// No lease here (none could be taken for another reason, or the file is gone).
    Unavailable,
}

/// A read lease held on one file (released when dropped).
pub(crate) struct Held {
    #[cfg_attr(not(target_os = "linux"), allow(dead_code))]
    fd: OwnedFd,
}

impl Lease {
    /// Takes a read lease on `name` in `dir`, without following a symlink.
    pub(crate) fn take(dir: &OwnedFd, name: &str) -> Lease {
        use rustix::fs::{Mode, OFlags};
        let flags = OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC | OFlags::NOCTTY;
        let Ok(fd) = rustix::fs::openat(dir, name, flags, Mode::empty()) else { return Lease::Unavailable };
        sys::take(fd)
    }

    /// Whether a program opened the file for writing while the lease was held (its `open` now
    /// waits for the lease to go). `false` when no lease is held.
    pub(crate) fn broken(&self) -> bool {
        match self {
            Lease::Held(held) => sys::broken(held),
            Lease::OpenForWriting | Lease::Unavailable => false,
        }
    }
}

#[cfg(target_os = "linux")]
#[allow(unsafe_code)]
mod sys {
    use std::os::fd::{AsRawFd as _, OwnedFd};

    use super::{Held, Lease};

    /// `F_SETSIG` (`<fcntl.h>`, `__F_SETSIG`: 10 on every Linux architecture), which `libc`
    /// exports only for some targets.
    const F_SETSIG: libc::c_int = 10;

    pub(super) fn take(fd: OwnedFd) -> Lease {
        let raw = fd.as_raw_fd();
        // SAFETY: `fcntl` on a descriptor this function owns, with integer arguments only.
        unsafe {
            if libc::fcntl(raw, F_SETSIG, libc::SIGURG) != 0 {
                return Lease::Unavailable;
            }
            if libc::fcntl(raw, libc::F_SETLEASE, libc::F_RDLCK) != 0 {
                return match std::io::Error::last_os_error().raw_os_error() {
                    Some(libc::EAGAIN) => Lease::OpenForWriting,
                    _ => Lease::Unavailable,
                };
            }
            // No owner, no signal: the break is read with F_GETLEASE.
            let _ = libc::fcntl(raw, libc::F_SETOWN, 0);
        }
        Lease::Held(Held { fd })
    }

    pub(super) fn broken(held: &Held) -> bool {
        // SAFETY: as above; F_GETLEASE takes no argument.
        let now = unsafe { libc::fcntl(held.fd.as_raw_fd(), libc::F_GETLEASE) };
        now != libc::F_RDLCK
    }

    impl Drop for Held {
        fn drop(&mut self) {
            // Closing the descriptor releases the lease too; this says so at once.
            // SAFETY: as above.
            unsafe {
                let _ = libc::fcntl(self.fd.as_raw_fd(), libc::F_SETLEASE, libc::F_UNLCK);
            }
        }
    }
}

#[cfg(not(target_os = "linux"))]
mod sys {
    use std::os::fd::OwnedFd;

    use super::{Held, Lease};

    pub(super) fn take(_fd: OwnedFd) -> Lease {
        Lease::Unavailable
    }

    pub(super) fn broken(_held: &Held) -> bool {
        false
    }
}

#[cfg(test)]
#[cfg(target_os = "linux")]
mod tests {
    use std::io::Write as _;

    use super::*;

    fn dir(path: &std::path::Path) -> OwnedFd {
        use rustix::fs::{Mode, OFlags};
        rustix::fs::open(path, OFlags::DIRECTORY | OFlags::RDONLY | OFlags::CLOEXEC, Mode::empty()).unwrap()
    }

    #[test]
    fn a_file_open_for_writing_takes_no_lease_and_a_later_open_breaks_one() {
        let temp = tempfile::tempdir().unwrap();
        std::fs::write(temp.path().join("a.md"), "a\n").unwrap();
        let dir = dir(temp.path());
        let writer = std::fs::OpenOptions::new().append(true).open(temp.path().join("a.md")).unwrap();
        assert!(matches!(Lease::take(&dir, "a.md"), Lease::OpenForWriting));
        drop(writer);
        let lease = Lease::take(&dir, "a.md");
        assert!(matches!(lease, Lease::Held(_)), "no lease on a file nobody writes");
        assert!(!lease.broken());
        // Readers do not break it.
        assert_eq!(std::fs::read(temp.path().join("a.md")).unwrap(), b"a\n");
        assert!(!lease.broken());
        // A writer's open waits for the lease; the holder sees the break (and is not signalled).
        let path = temp.path().join("a.md");
        let opener = std::thread::spawn(move || {
            let mut file = std::fs::OpenOptions::new().append(true).open(path).unwrap();
            file.write_all(b"b\n").unwrap();
        });
        let started = std::time::Instant::now();
        while !lease.broken() {
            assert!(started.elapsed() < std::time::Duration::from_secs(10), "the open never broke the lease");
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        assert!(!opener.is_finished(), "the writer's open waits while the lease is held");
        drop(lease);
        opener.join().unwrap();
        assert_eq!(std::fs::read(temp.path().join("a.md")).unwrap(), b"a\nb\n");
        assert!(matches!(Lease::take(&dir, "missing.md"), Lease::Unavailable));
    }
}
