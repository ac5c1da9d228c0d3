//! Ctrl-C and SIGTERM: stop the whole process tree, drop temp folders, exit 130 / 143.
//!
//! Every child started through `process.rs` runs in its own process group, registered
//! here while it runs. The signal handler only writes the signal number to a pipe
//! (async-signal-safe); a watcher thread reads it and does the work: it waits for a
//! running folder swap to finish, sends SIGTERM to every live group (SIGKILL after a
//! short grace), kills the processes registered by marker that left those groups (see
//! [`crate::sweep`]), removes the registered temp folders and exits with 128 + signal.
//! Locks are file locks: they go with the process. Published outputs are only ever
//! replaced by a complete swap, so the previous artifacts stay as they were.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// How long stopped groups get between SIGTERM and SIGKILL.
const GRACE: Duration = Duration::from_secs(2);

static GROUPS: Mutex<BTreeSet<i32>> = Mutex::new(BTreeSet::new());
static TEMPS: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());
static MARKERS: Mutex<Vec<String>> = Mutex::new(Vec::new());
static CRITICAL: Mutex<()> = Mutex::new(());
static PIPE_WRITE: AtomicI32 = AtomicI32::new(-1);

fn lock<T>(mutex: &'static Mutex<T>) -> MutexGuard<'static, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Installs the SIGINT and SIGTERM handlers and the watcher thread. Call once, early.
pub fn install() {
    let mut fds = [0i32; 2];
    // SAFETY: `fds` has room for the two descriptors pipe2 writes.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        tracing::warn!("cannot create the signal pipe: Ctrl-C stops wlmake without cleanup");
        return;
    }
    PIPE_WRITE.store(fds[1], Ordering::SeqCst);
    let read_fd = fds[0];
    std::thread::Builder::new()
        .name("signals".into())
        .spawn(move || watch(read_fd))
        .expect("cannot start the signal thread");
    for signal in [libc::SIGINT, libc::SIGTERM] {
        // SAFETY: the handler only calls write(2), which is async-signal-safe; the
        // sigaction struct is zeroed and then filled with valid values.
        unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = on_signal as *const () as libc::sighandler_t;
            action.sa_flags = libc::SA_RESTART;
            libc::sigemptyset(&mut action.sa_mask);
            libc::sigaction(signal, &action, std::ptr::null_mut());
        }
    }
}

extern "C" fn on_signal(signal: libc::c_int) {
    let fd = PIPE_WRITE.load(Ordering::SeqCst);
    let byte = signal as u8;
    // SAFETY: write(2) on a pipe with a one-byte buffer is async-signal-safe.
    unsafe {
        libc::write(fd, (&byte as *const u8).cast(), 1);
    }
}

fn watch(read_fd: i32) {
    let mut byte = 0u8;
    loop {
        // SAFETY: reads one byte into `byte`.
        let read = unsafe { libc::read(read_fd, (&mut byte as *mut u8).cast(), 1) };
        if read == 1 {
            break;
        }
        if read == 0 {
            return;
        }
    }
    let signal = i32::from(byte);
    let name = if signal == libc::SIGINT {
        "SIGINT"
    } else {
        "SIGTERM"
    };
    eprintln!("\nwlmake: {name} received: stopping the running steps and cleaning up");
    // A folder swap in progress finishes first; none starts after this.
    let _critical = lock(&CRITICAL);
    // Held until exit: no new child starts.
    let registry = lock(&GROUPS);
    let mut groups = registry.clone();
    // Also every group led by a direct child, should one have escaped the registry.
    groups.extend(child_groups());
    tracing::debug!(?groups, "stopping process groups");
    stop_groups(&groups);
    // Processes that left our groups (a runtime under `timeout`), found by their markers.
    let markers = lock(&MARKERS).clone();
    if !markers.is_empty() {
        crate::sweep::stop_all(&markers);
    }
    let temps = lock(&TEMPS);
    for path in temps.iter() {
        remove_path(path);
    }
    std::process::exit(128 + signal);
}

/// The process groups of this process's direct children (from /proc), except our own.
fn child_groups() -> Vec<i32> {
    let me = std::process::id() as i32;
    // SAFETY: getpgrp(2) cannot fail.
    let own_group = unsafe { libc::getpgrp() };
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|entry| {
            let stat = std::fs::read_to_string(entry.path().join("stat")).ok()?;
            // `pid (comm) state ppid pgrp ...`; comm may hold spaces and parentheses.
            let mut fields = stat.rsplit_once(')')?.1.split_whitespace().skip(1);
            let parent: i32 = fields.next()?.parse().ok()?;
            let group: i32 = fields.next()?.parse().ok()?;
            (parent == me && group != own_group).then_some(group)
        })
        .collect()
}

/// SIGTERM to every group, then SIGKILL to those still alive after the grace time.
fn stop_groups(groups: &BTreeSet<i32>) {
    for &group in groups {
        // SAFETY: kill(2) with a negative pid signals a process group; no memory is touched.
        unsafe {
            libc::kill(-group, libc::SIGTERM);
        }
    }
    let deadline = Instant::now() + GRACE;
    let alive = |group: i32| unsafe { libc::kill(-group, 0) } == 0;
    while groups.iter().any(|&g| alive(g)) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    for &group in groups {
        if alive(group) {
            // SAFETY: as above.
            unsafe {
                libc::kill(-group, libc::SIGKILL);
            }
        }
    }
}

fn remove_path(path: &Path) {
    // The main thread may still be writing into it: try a few times.
    for _ in 0..5 {
        let result = if path.is_dir() {
            std::fs::remove_dir_all(path)
        } else {
            std::fs::remove_file(path)
        };
        if result.is_ok() || std::fs::symlink_metadata(path).is_err() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Command-line markers of processes that a signal must stop even when they left our
/// process groups (see [`crate::sweep`]); removed again when the guard is dropped.
pub fn sweep_on_signal(markers: Vec<String>) -> Marked {
    lock(&MARKERS).extend(markers.iter().cloned());
    Marked(markers)
}

/// Markers registered by [`sweep_on_signal`].
#[derive(Debug)]
pub struct Marked(Vec<String>);

impl Drop for Marked {
    fn drop(&mut self) {
        let mut markers = lock(&MARKERS);
        for marker in &self.0 {
            if let Some(index) = markers.iter().position(|m| m == marker) {
                markers.remove(index);
            }
        }
    }
}

/// Live process groups: a child is registered while the lock is held, so a signal never
/// falls between its start and its registration.
pub struct Spawning(MutexGuard<'static, BTreeSet<i32>>);

/// Locks the group registry for a start; register the child's pids before dropping it.
pub fn spawning() -> Spawning {
    Spawning(lock(&GROUPS))
}

impl Spawning {
    /// Registers the groups led by `pids` (each child is its own group leader).
    pub fn register(mut self, pids: &[u32]) -> Group {
        let groups: Vec<i32> = pids.iter().map(|&pid| pid as i32).collect();
        self.0.extend(&groups);
        Group(groups)
    }
}

/// A registered set of process groups; removed from the registry when dropped.
#[derive(Debug)]
pub struct Group(Vec<i32>);

impl Group {
    /// Kills the whole groups at once (a timeout).
    pub fn kill(&self) {
        for &group in &self.0 {
            // SAFETY: kill(2) on our own child's process group.
            unsafe {
                libc::kill(-group, libc::SIGKILL);
            }
        }
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        let mut groups = lock(&GROUPS);
        for group in &self.0 {
            groups.remove(group);
        }
    }
}

/// A temp file or folder removed on an interruption; unregistered when dropped (drop it
/// after the path was moved into place or removed).
#[derive(Debug)]
pub struct TempPath(PathBuf);

/// Registers `path` for removal on an interruption.
pub fn track_temp(path: &Path) -> TempPath {
    lock(&TEMPS).push(path.to_path_buf());
    TempPath(path.to_path_buf())
}

/// A temp folder `parent/<prefix>XXXXXX`, created and registered in one step (an
/// interruption cannot fall between the two and leave it behind).
pub fn temp_dir_in(parent: &Path, prefix: &str) -> std::io::Result<(tempfile::TempDir, TempPath)> {
    let mut temps = lock(&TEMPS);
    let dir = tempfile::Builder::new().prefix(prefix).tempdir_in(parent)?;
    temps.push(dir.path().to_path_buf());
    let tracked = TempPath(dir.path().to_path_buf());
    Ok((dir, tracked))
}

/// Registers `path` for removal on an interruption for the rest of the run: for temp
/// paths handed around by value; once moved into place the random name no longer
/// exists, so a later removal finds nothing.
pub fn track_temp_until_exit(path: &Path) {
    lock(&TEMPS).push(path.to_path_buf());
}

impl Drop for TempPath {
    fn drop(&mut self) {
        let mut temps = lock(&TEMPS);
        if let Some(index) = temps.iter().position(|p| p == &self.0) {
            temps.remove(index);
        }
    }
}

/// Held across a sequence that must not be cut in the middle (the two renames of a
/// folder swap): an interruption waits for it.
pub fn critical() -> MutexGuard<'static, ()> {
    lock(&CRITICAL)
}
