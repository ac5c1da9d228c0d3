//! The built PHP's view of the host's files when other processes change them. Wasmtime
//! looks up every entry of a listing on its own; an entry removed meanwhile used to fail
//! the whole `fd_readdir` with ENOENT (opendir() on a folder that exists), which the
//! compat layer's readdir retry absorbs (compat/wasi/src/readdir.c).

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::server::{Flavor, ensure_built, wlmake};

/// Lists the folder `/d` this many times; prints how many opendir() calls failed.
const LISTINGS: usize = 2000;

const LIST_AGAIN_AND_AGAIN: &str = r#"<?php
$failed = 0; $last = '';
for ($i = 0; $i < (int)$argv[1]; $i++) {
    $d = @opendir('/d');
    if (!$d) { $failed++; $last = error_get_last()['message'] ?? '?'; continue; }
    while (readdir($d) !== false) {}
    closedir($d);
}
echo "failed $failed $last\n";
"#;

/// Creates and removes files in `folder` until `stop` is set.
fn churn(folder: &Path, stop: &AtomicBool) -> usize {
    let mut rounds = 0;
    while !stop.load(Ordering::Relaxed) {
        let file = folder.join(format!("churn-{}", rounds % 16));
        std::fs::write(&file, b"x").unwrap();
        std::fs::remove_file(&file).unwrap();
        rounds += 1;
    }
    rounds
}

fn lists_a_folder_another_process_changes(recipe: &str) {
    ensure_built(recipe, Flavor::Wasmtime);
    let root = tempfile::tempdir().unwrap();
    let folder = root.path().join("d");
    std::fs::create_dir(&folder).unwrap();
    for n in 0..200 {
        std::fs::write(folder.join(format!("kept-{n}")), b"kept").unwrap();
    }
    std::fs::write(root.path().join("list.php"), LIST_AGAIN_AND_AGAIN).unwrap();

    let stop = Arc::new(AtomicBool::new(false));
    let churner = {
        let (folder, stop) = (folder.clone(), stop.clone());
        std::thread::spawn(move || churn(&folder, &stop))
    };
    let output = wlmake()
        .args(["-q", "run", recipe, "--runtime", "wasmtime", "--dir"])
        .arg(format!("{}::/", root.path().display()))
        .args(["--", "/list.php", &LISTINGS.to_string()])
        .output()
        .unwrap();
    stop.store(true, Ordering::Relaxed);
    let rounds = churner.join().unwrap();

    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "php failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        rounds > 100,
        "the folder changed only {rounds} times while PHP listed it"
    );
    assert_eq!(
        stdout.trim(),
        "failed 0",
        "{LISTINGS} listings while another process created and removed {rounds} files"
    );
}

#[test]
fn php_82_on_wasmtime_lists_a_folder_another_process_changes() {
    lists_a_folder_another_process_changes("php/php-8.2.32");
}

#[test]
fn php_74_on_wasmtime_lists_a_folder_another_process_changes() {
    lists_a_folder_another_process_changes("php/php-7.4.33");
}
