//! Stopping what a run left behind. `run-tests.php` kills only the shell it started when
//! its own limit fires, and a run stopped by wlmake's overall limit leaves its workers;
//! the runtime processes under them would spin on. Processes are found by a marker in
//! their command line: a path inside the suite folder (the wrapper, the preopened source
//! tree, the driver), so only this run's processes match.

use std::time::Duration;

use crate::process::Command;

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
        killed += pids.len();
        // The shell's `kill` builtin: a `kill` binary (procps) is not everywhere.
        let result = Command::new("sh")
            .args(["-c", "kill -KILL \"$@\" 2>/dev/null; true", "sh"])
            .args(pids.iter().map(u32::to_string))
            .timeout(Duration::from_secs(10))
            .capture();
        if let Err(error) = result {
            tracing::warn!(%error, "cannot stop leftover processes");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    killed
}

#[cfg(test)]
mod tests {
    use super::*;

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
