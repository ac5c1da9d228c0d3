//! Stopping processes that left our process groups. The upstream suite's driver
//! (`run-tests.php`) starts workers, and their runtimes run under `timeout`, which puts
//! each in a process group of its own: stopping the driver's group (at the end of a run,
//! at wlmake's overall limit, or on Ctrl-C / SIGTERM through [`crate::interrupt`]) does
//! not reach them, and they would spin on. Such processes are found by a marker in their
//! command line: a path inside the run's own folder, so only this run's processes match.

use std::time::Duration;

/// Processes other than this one whose command line contains one of `markers`.
pub fn find(markers: &[String]) -> Vec<u32> {
    let own = std::process::id();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let mut pids: Vec<u32> = entries
        .flatten()
        .filter_map(|entry| entry.file_name().to_str()?.parse::<u32>().ok())
        .filter(|&pid| pid != own)
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|bytes| {
                let line = String::from_utf8_lossy(&bytes).replace('\0', " ");
                markers.iter().any(|marker| line.contains(marker.as_str()))
            })
        })
        .collect();
    pids.sort_unstable();
    pids
}

/// Kills (SIGKILL) every matching process until none is left; a parent killed between
/// two looks may have started a child, hence the rounds. Returns how many were killed.
pub fn stop_all(markers: &[String]) -> usize {
    let mut killed = 0;
    for _ in 0..20 {
        let pids = find(markers);
        if pids.is_empty() {
            break;
        }
        tracing::debug!(?pids, "stopping leftover processes");
        for &pid in &pids {
            // SAFETY: kill(2) sends a signal; no memory is touched. No subprocess is
            // started here: this also runs from the signal watcher, when no new child may
            // start.
            if unsafe { libc::kill(pid as i32, libc::SIGKILL) } == 0 {
                killed += 1;
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    killed
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::process::Command;

    #[test]
    fn finds_and_stops_only_marked_processes() {
        let dir = tempfile::tempdir().unwrap();
        // A `sleep` whose own path is the marker, left running in the background like a
        // runtime process under a killed driver.
        let marked = dir.path().join("marker-runtime");
        std::os::unix::fs::symlink(crate::process::which("sleep").unwrap(), &marked).unwrap();
        Command::new("sh")
            .arg("-c")
            .arg(format!(
                "'{}' 300 </dev/null >/dev/null 2>&1 &",
                marked.display()
            ))
            .capture_checked()
            .unwrap();
        let markers = vec![marked.display().to_string()];
        let mut found = Vec::new();
        for _ in 0..100 {
            found = find(&markers);
            if !found.is_empty() {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        assert_eq!(found.len(), 1, "the marked process was not found");
        assert!(find(&["no-such-marker-anywhere-1234".to_string()]).is_empty());
        assert_eq!(stop_all(&markers), 1);
        assert!(find(&markers).is_empty());
    }
}
