//! The patch-set workflow end to end: `wlmake patch start|export|check|rebase` and
//! `wlmake new` on tiny recipes (in-repository sources in a temp repository, real git
//! workspaces, real GNU patch), and the walkthrough of docs/patch-workflow.md on the real
//! PHP 7.4.33 tree (a full build for the wasmedge flavor, run on the real Wasmtime).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use assert_cmd::Command;

const HELLO_C: &str = r#"#include <stdio.h>

#include "util.h"

static const char *greeting(void)
{
    return "hello";
}

int main(int argc, char **argv)
{
    const char *who = argc > 1 ? argv[1] : "world";
    printf("%s, %s\n", greeting(), who);
    return 0;
}
"#;

const UTIL_C: &str = "#include \"util.h\"\n\nint twice(int value)\n{\n    return value * 2;\n}\n\nint square(int value)\n{\n    return value * value;\n}\n";

const UTIL_H: &str = "#pragma once\nint twice(int value);\nint square(int value);\n";

/// `git diff` output (without index lines) for each patch: the canonical format.
const PATCH_GREETING: &str = "Subject: hello: say that the greeting is patched\n\nShows that the common set is applied.\n\ndiff --git a/hello.c b/hello.c\n--- a/hello.c\n+++ b/hello.c\n@@ -4,7 +4,7 @@\n \n static const char *greeting(void)\n {\n-    return \"hello\";\n+    return \"hello (patched)\";\n }\n \n int main(int argc, char **argv)\n";

const PATCH_TWICE: &str = "Subject: util: twice() by addition\n\nSome targets multiply slowly.\nA second line of why.\n\ndiff --git a/util.c b/util.c\n--- a/util.c\n+++ b/util.c\n@@ -2,7 +2,7 @@\n \n int twice(int value)\n {\n-    return value * 2;\n+    return value + value;\n }\n \n int square(int value)\n";

const PATCH_FLUSH: &str = "Subject: hello: flush stdout before exit on wasmtime\n\ndiff --git a/hello.c b/hello.c\n--- a/hello.c\n+++ b/hello.c\n@@ -11,5 +11,6 @@ int main(int argc, char **argv)\n {\n     const char *who = argc > 1 ? argv[1] : \"world\";\n     printf(\"%s, %s\\n\", greeting(), who);\n+    fflush(stdout);\n     return 0;\n }\n";

fn recipe(version: &str, series: &str, source: &str) -> String {
    format!(
        r#"[package]
language = "c"
name = "hello"
version = "{version}"
runtimes = ["wasmtime", "wasmedge"]

[source]
path = "{source}"

[patches]
common = "patches/hello/{series}/common"

[patches.runtime]
wasmtime = "patches/hello/{series}/wasmtime"
wasmedge = "patches/hello/{series}/wasmedge"

[build]
system = "make"
make-targets = ["all"]

[[artifact]]
name = "hello"
path = "hello.wasm"
"#
    )
}

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// A temp repository: `c/hello-1.0` with a series (two common patches, one wasmtime
/// patch, an empty wasmedge set); `c/hello-2.0` whose upstream only moved lines;
/// `c/hello-3.0` whose upstream changed a line the series changes. 2.0 and 3.0 have
/// empty patch sets.
struct Fixture {
    dir: tempfile::TempDir,
}

impl Fixture {
    fn new() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let moved = |text: &str| format!("/* version 2 */\n/* moved lines */\n{text}");
        write(&root.join("upstream/hello-1.0/hello.c"), HELLO_C);
        write(&root.join("upstream/hello-1.0/util.c"), UTIL_C);
        write(&root.join("upstream/hello-1.0/util.h"), UTIL_H);
        write(&root.join("upstream/hello-2.0/hello.c"), &moved(HELLO_C));
        write(&root.join("upstream/hello-2.0/util.c"), &moved(UTIL_C));
        write(&root.join("upstream/hello-2.0/util.h"), UTIL_H);
        write(&root.join("upstream/hello-3.0/hello.c"), &moved(HELLO_C));
        write(
            &root.join("upstream/hello-3.0/util.c"),
            &moved(&UTIL_C.replace("value * 2", "value << 1")),
        );
        write(&root.join("upstream/hello-3.0/util.h"), UTIL_H);
        for (version, series) in [("1.0", "1"), ("2.0", "2"), ("3.0", "3")] {
            write(
                &root.join(format!("recipes/c/hello-{version}.toml")),
                &recipe(version, series, &format!("upstream/hello-{version}")),
            );
            for set in ["common", "wasmtime", "wasmedge"] {
                write(
                    &root.join(format!("patches/hello/{series}/{set}/.keep")),
                    "",
                );
            }
        }
        write(
            &root.join("patches/hello/1/common/0001-greeting-says-patched.patch"),
            PATCH_GREETING,
        );
        write(
            &root.join("patches/hello/1/common/0002-twice-by-addition.patch"),
            PATCH_TWICE,
        );
        write(
            &root.join("patches/hello/1/wasmtime/0001-flush-before-exit.patch"),
            PATCH_FLUSH,
        );
        Fixture { dir }
    }

    fn root(&self) -> &Path {
        self.dir.path()
    }

    fn wlmake(&self) -> Command {
        let mut command = Command::cargo_bin("wlmake").unwrap();
        command
            .current_dir(self.root())
            .env_remove("WLMAKE_REPO")
            .env_remove("WLMAKE_WORK_DIR")
            .env_remove("WLMAKE_OUTPUT_DIR")
            .env("WLMAKE_CACHE_DIR", self.root().join("cache"))
            .env("WLMAKE_APT", "0")
            .timeout(std::time::Duration::from_secs(120));
        command
    }

    fn run(&self, args: &[&str]) -> Output {
        Output::of(self.wlmake().args(args).output().unwrap())
    }

    fn workspace(&self, id: &str, runtime: &str) -> PathBuf {
        self.root().join("work/patch").join(id).join(runtime)
    }

    /// Every file under `patches/`, by path.
    fn patch_files(&self) -> BTreeMap<String, Vec<u8>> {
        files_under(&self.root().join("patches"))
    }
}

fn files_under(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(base: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        for entry in std::fs::read_dir(dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(base, &path, out);
            } else {
                let name = path.strip_prefix(base).unwrap().display().to_string();
                out.insert(name, std::fs::read(&path).unwrap());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

struct Output {
    success: bool,
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Output {
    fn of(output: std::process::Output) -> Output {
        Output {
            success: output.status.success(),
            code: output.status.code(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    fn ok(self) -> Output {
        assert!(self.success, "failed:\n{}{}", self.stdout, self.stderr);
        self
    }

    fn failed(self) -> Output {
        assert!(!self.success, "succeeded:\n{}{}", self.stdout, self.stderr);
        self
    }

    fn all(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }
}

/// Ordinary git in a workspace, as a person would use it.
fn git(dir: &Path, args: &[&str]) -> String {
    let output = std::process::Command::new("git")
        .current_dir(dir)
        .args(args)
        .env("GIT_AUTHOR_NAME", "Patch Author")
        .env("GIT_AUTHOR_EMAIL", "author@example.invalid")
        .env("GIT_COMMITTER_NAME", "Patch Author")
        .env("GIT_COMMITTER_EMAIL", "author@example.invalid")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("HOME", dir)
        .output()
        .expect("git is installed");
    assert!(
        output.status.success(),
        "git {args:?} failed:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn edit(path: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(path).unwrap();
    assert!(text.contains(from), "`{from}` not in {}", path.display());
    std::fs::write(path, text.replacen(from, to, 1)).unwrap();
}

#[test]
fn start_then_export_without_edits_leaves_every_patch_file_byte_identical() {
    let fixture = Fixture::new();
    let before = fixture.patch_files();
    let out = fixture
        .run(&["patch", "start", "c/hello-1.0", "--runtime", "wasmtime"])
        .ok();
    let dir = fixture.workspace("c/hello-1.0", "wasmtime");
    assert_eq!(out.stdout.trim(), dir.display().to_string());

    // `git log` shows the series on the tagged upstream.
    let log = git(&dir, &["log", "--format=%s", "--reverse"]);
    assert_eq!(
        log,
        "Upstream c/hello-1.0\nhello: say that the greeting is patched\nutil: twice() by addition\nhello: flush stdout before exit on wasmtime\n"
    );
    let message = git(&dir, &["log", "-1", "--format=%B", "HEAD~1"]);
    assert!(
        message.contains("Some targets multiply slowly.\nA second line of why.\n\nPatch-Set: common\nPatch-File: 0002-twice-by-addition.patch"),
        "{message}"
    );
    assert_eq!(
        git(&dir, &["rev-parse", "upstream"]),
        git(&dir, &["rev-parse", "HEAD~3"])
    );
    let head = git(&dir, &["rev-parse", "HEAD"]);

    let out = fixture
        .wlmake()
        .current_dir(&dir)
        .args(["patch", "export"])
        .output()
        .unwrap();
    let out = Output::of(out).ok();
    assert!(
        out.stdout
            .contains("0 new, 0 updated, 0 removed, 3 unchanged"),
        "{}",
        out.stdout
    );
    assert_eq!(fixture.patch_files(), before);
    // Nothing to record: the commits stay as they are.
    assert_eq!(git(&dir, &["rev-parse", "HEAD"]), head);

    // The same series gives the same commits every time.
    fixture
        .run(&[
            "patch",
            "start",
            "c/hello-1.0",
            "--runtime",
            "wasmtime",
            "--force",
        ])
        .ok();
    assert_eq!(git(&dir, &["rev-parse", "HEAD"]), head);

    // And the series applies exactly.
    let out = fixture.run(&["patch", "check", "c/hello-1.0"]).ok();
    assert!(
        out.stdout
            .contains("ok   patches/hello/1/common/0001-greeting-says-patched.patch"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("ok   patches/hello/1/wasmtime/0001-flush-before-exit.patch (wasmtime)"),
        "{}",
        out.stdout
    );
}

#[test]
fn start_refuses_an_existing_workspace() {
    let fixture = Fixture::new();
    fixture
        .run(&["patch", "start", "c/hello-1.0", "--runtime", "wasmedge"])
        .ok();
    let out = fixture
        .run(&["patch", "start", "c/hello-1.0", "--runtime", "wasmedge"])
        .failed();
    assert!(
        out.stderr.contains("a patch workspace already exists"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("hint: work in it"), "{}", out.stderr);
}

#[test]
fn check_names_the_patch_and_hunk_that_no_longer_apply() {
    let fixture = Fixture::new();
    edit(
        &fixture.root().join("upstream/hello-1.0/hello.c"),
        "return \"hello\";",
        "return \"hi\";",
    );
    let out = fixture.run(&["patch", "check", "c/hello-1.0"]).failed();
    assert_eq!(out.code, Some(1));
    assert!(
        out.stdout.contains(
            "FAIL patches/hello/1/common/0001-greeting-says-patched.patch: hello.c: hunk #1 (@@ -4,7 +4,7 @@) FAILED at 4"
        ),
        "{}",
        out.stdout
    );
    // The others are still checked, one line each.
    assert!(
        out.stdout
            .contains("ok   patches/hello/1/common/0002-twice-by-addition.patch"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("2 patch(es) apply exactly, 1 fail"),
        "{}",
        out.stdout
    );
    assert!(
        out.stderr
            .contains("error: 1 patch(es) do not apply exactly"),
        "{}",
        out.stderr
    );

    // A build says the same.
    let out = fixture.run(&["build", "c/hello-1.0"]).failed();
    assert!(
        out.stderr.contains(
            "0001-greeting-says-patched.patch` does not apply: hello.c: hunk #1 (@@ -4,7 +4,7 @@) FAILED at 4"
        ),
        "{}",
        out.stderr
    );
}

#[test]
fn check_all_skips_unreachable_sources_and_says_so() {
    let fixture = Fixture::new();
    write(
        &fixture.root().join("recipes/c/gone-1.0.toml"),
        "[package]\nlanguage = \"c\"\nname = \"gone\"\nversion = \"1.0\"\nruntimes = [\"wasmtime\"]\n\n[source]\nurl = \"http://127.0.0.1:9/gone-1.0.tar.gz\"\nsha256 = \"0000000000000000000000000000000000000000000000000000000000000000\"\n\n[patches]\ncommon = \"patches/hello/1/common\"\n",
    );
    let out = fixture.run(&["patch", "check", "--all"]).ok();
    assert!(
        out.stdout
            .contains("c/gone-1.0\n  skipped: the source cannot be fetched"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("skipped (source not reachable here): c/gone-1.0"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("c/hello-2.0\n  no patches"),
        "{}",
        out.stdout
    );
    // Named on its own, an unreachable source is an error.
    let out = fixture.run(&["patch", "check", "c/gone-1.0"]).failed();
    assert!(
        out.stderr.contains("its source cannot be fetched"),
        "{}",
        out.stderr
    );
}

#[test]
fn export_after_reordering_and_dropping_commits() {
    let fixture = Fixture::new();
    fixture
        .run(&["patch", "start", "c/hello-1.0", "--runtime", "wasmtime"])
        .ok();
    let dir = fixture.workspace("c/hello-1.0", "wasmtime");
    // Swap the two common patches, drop the wasmtime one: an ordinary interactive rebase.
    let todo = fixture.root().join("todo.sh");
    write(
        &todo,
        "#!/bin/sh\nawk 'NR==1{a=$0; next} NR==2{print; print a; next} /^pick/{print \"drop\" substr($0,5); next} {print}' \"$1\" > \"$1.new\" && mv \"$1.new\" \"$1\"\n",
    );
    let output = std::process::Command::new("git")
        .current_dir(&dir)
        .args(["rebase", "-i", "upstream"])
        .env("GIT_SEQUENCE_EDITOR", format!("sh {}", todo.display()))
        .env("GIT_AUTHOR_NAME", "Patch Author")
        .env("GIT_AUTHOR_EMAIL", "author@example.invalid")
        .env("GIT_COMMITTER_NAME", "Patch Author")
        .env("GIT_COMMITTER_EMAIL", "author@example.invalid")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(
        git(&dir, &["log", "--format=%s", "--reverse", "upstream..HEAD"]),
        "util: twice() by addition\nhello: say that the greeting is patched\n"
    );

    let out = Output::of(
        fixture
            .wlmake()
            .current_dir(&dir)
            .args(["patch", "export"])
            .output()
            .unwrap(),
    )
    .ok();
    assert!(
        out.stdout
            .contains("2 new, 0 updated, 3 removed, 0 unchanged"),
        "{}",
        out.stdout
    );
    let files: Vec<String> = fixture.patch_files().into_keys().collect();
    assert_eq!(
        files,
        vec![
            "hello/1/common/.keep",
            "hello/1/common/0001-twice-by-addition.patch",
            "hello/1/common/0002-greeting-says-patched.patch",
            "hello/1/wasmedge/.keep",
            "hello/1/wasmtime/.keep",
            "hello/2/common/.keep",
            "hello/2/wasmedge/.keep",
            "hello/2/wasmtime/.keep",
            "hello/3/common/.keep",
            "hello/3/wasmedge/.keep",
            "hello/3/wasmtime/.keep",
        ]
    );
    // Same content, new numbers; the commits now carry the new file names.
    let first = std::fs::read_to_string(
        fixture
            .root()
            .join("patches/hello/1/common/0001-twice-by-addition.patch"),
    )
    .unwrap();
    assert_eq!(first, PATCH_TWICE);
    let message = git(&dir, &["log", "-1", "--format=%B", "HEAD~1"]);
    assert!(
        message.contains("Patch-File: 0001-twice-by-addition.patch"),
        "{message}"
    );
    let again = Output::of(
        fixture
            .wlmake()
            .current_dir(&dir)
            .args(["patch", "export"])
            .output()
            .unwrap(),
    )
    .ok();
    assert!(
        again
            .stdout
            .contains("0 new, 0 updated, 0 removed, 2 unchanged"),
        "{}",
        again.stdout
    );
    fixture.run(&["patch", "check", "c/hello-1.0"]).ok();
}

#[test]
fn new_commits_need_a_set_and_keep_it() {
    let fixture = Fixture::new();
    fixture
        .run(&["patch", "start", "c/hello-1.0", "--runtime", "wasmedge"])
        .ok();
    let dir = fixture.workspace("c/hello-1.0", "wasmedge");
    edit(
        &dir.join("util.c"),
        "value * value",
        "value * value /* squared */",
    );
    git(&dir, &["commit", "-qam", "util: say what square() does"]);

    // Exported by recipe and runtime from anywhere in the repository.
    let out = fixture
        .run(&["patch", "export", "c/hello-1.0", "--runtime", "wasmedge"])
        .failed();
    assert!(
        out.stderr
            .contains("(\"util: say what square() does\") belongs to no patch set"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains("hint: new commits go into the set named with --set (common, wasmedge)"),
        "{}",
        out.stderr
    );

    let out = fixture
        .run(&["patch", "export", "c/hello-1.0", "--set", "wasmedge"])
        .ok();
    assert!(
        out.stdout
            .contains("new       patches/hello/1/wasmedge/0001-util-say-what-square-does.patch"),
        "{}",
        out.stdout
    );
    let text = std::fs::read_to_string(
        fixture
            .root()
            .join("patches/hello/1/wasmedge/0001-util-say-what-square-does.patch"),
    )
    .unwrap();
    assert!(
        text.starts_with("Subject: util: say what square() does\n\ndiff --git a/util.c b/util.c\n"),
        "{text}"
    );
    // The commit now names its set: no --set needed any more.
    let out = fixture.run(&["patch", "export", "c/hello-1.0"]).ok();
    assert!(
        out.stdout
            .contains("0 new, 0 updated, 0 removed, 3 unchanged"),
        "{}",
        out.stdout
    );

    // A common commit after the wasmedge one is out of order.
    edit(
        &dir.join("util.h"),
        "#pragma once",
        "#pragma once /* util */",
    );
    git(
        &dir,
        &[
            "commit",
            "-qam",
            "util: mark the header\n\nPatch-Set: common",
        ],
    );
    let out = fixture.run(&["patch", "export", "c/hello-1.0"]).failed();
    assert!(
        out.stderr.contains("but the common set is applied first"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("git rebase -i upstream"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_dirty_work_tree_is_refused_with_a_clear_message() {
    let fixture = Fixture::new();
    fixture
        .run(&["patch", "start", "c/hello-1.0", "--runtime", "wasmtime"])
        .ok();
    let dir = fixture.workspace("c/hello-1.0", "wasmtime");
    let before = fixture.patch_files();
    edit(&dir.join("hello.c"), "\"world\"", "\"you\"");
    write(&dir.join("notes.txt"), "scratch\n");
    let out = Output::of(
        fixture
            .wlmake()
            .current_dir(&dir)
            .args(["patch", "export"])
            .output()
            .unwrap(),
    )
    .failed();
    assert!(
        out.stderr.contains("has uncommitted changes:"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("modified  hello.c"), "{}", out.stderr);
    assert!(out.stderr.contains("untracked notes.txt"), "{}", out.stderr);
    assert!(
        out.stderr
            .contains("hint: commit the changes (`git add -A && git commit`)"),
        "{}",
        out.stderr
    );
    assert_eq!(fixture.patch_files(), before);
}

#[test]
fn export_refuses_a_patch_folder_that_changed_meanwhile() {
    let fixture = Fixture::new();
    fixture
        .run(&["patch", "start", "c/hello-1.0", "--runtime", "wasmtime"])
        .ok();
    // Someone else adds a patch to the common set.
    write(
        &fixture
            .root()
            .join("patches/hello/1/common/0003-someone-else.patch"),
        "Subject: x\n\n",
    );
    let out = fixture
        .run(&["patch", "export", "c/hello-1.0", "-r", "wasmtime"])
        .failed();
    assert!(
        out.stderr.contains(
            "the patch folder `patches/hello/1/common` changed since this workspace last read it"
        ),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains("new       patches/hello/1/common/0003-someone-else.patch"),
        "{}",
        out.stderr
    );
    assert!(
        fixture
            .root()
            .join("patches/hello/1/common/0003-someone-else.patch")
            .is_file()
    );
}

#[test]
fn rebase_without_conflicts_exports_into_the_target_sets() {
    let fixture = Fixture::new();
    let out = fixture
        .run(&[
            "patch",
            "rebase",
            "c/hello-1.0",
            "--onto",
            "c/hello-2.0",
            "--runtime",
            "wasmtime",
        ])
        .ok();
    for label in [
        "common/0001-greeting-says-patched.patch",
        "common/0002-twice-by-addition.patch",
        "wasmtime/0001-flush-before-exit.patch",
    ] {
        assert!(
            out.stdout
                .contains(&format!("applied                    {label}")),
            "{}",
            out.stdout
        );
    }
    assert!(
        out.stdout
            .contains("3 applied, 0 resolved, 0 already upstream, 0 skipped"),
        "{}",
        out.stdout
    );
    // The hunks moved with the upstream's lines.
    let moved = std::fs::read_to_string(
        fixture
            .root()
            .join("patches/hello/2/common/0001-greeting-says-patched.patch"),
    )
    .unwrap();
    assert_eq!(
        moved,
        PATCH_GREETING.replace("@@ -4,7 +4,7 @@", "@@ -6,7 +6,7 @@")
    );
    assert!(
        fixture
            .root()
            .join("patches/hello/2/wasmtime/0001-flush-before-exit.patch")
            .is_file()
    );
    fixture.run(&["patch", "check", "c/hello-2.0"]).ok();
    // The workspace is now the target's, ready for more work.
    let dir = fixture.workspace("c/hello-2.0", "wasmtime");
    assert_eq!(
        git(&dir, &["log", "--format=%s", "-1", "upstream"]),
        "Upstream c/hello-2.0\n"
    );
}

#[test]
fn rebase_stops_at_a_conflict_lists_it_and_continues_once_resolved() {
    let fixture = Fixture::new();
    let out = fixture
        .run(&[
            "patch",
            "rebase",
            "c/hello-1.0",
            "--onto",
            "c/hello-3.0",
            "--runtime",
            "wasmtime",
        ])
        .failed();
    assert_eq!(out.code, Some(1));
    let stdout = &out.stdout;
    assert!(
        stdout.contains("applied                    common/0001-greeting-says-patched.patch"),
        "{stdout}"
    );
    assert!(
        stdout.contains(
            "CONFLICT                   common/0002-twice-by-addition.patch (\"util: twice() by addition\")"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains("util.c: changed upstream and by the patch"),
        "{stdout}"
    );
    assert!(
        stdout.contains("conflict markers at lines 7-11"),
        "{stdout}"
    );
    assert!(
        stdout.contains("patch hunk @@ -2,7 +2,7 @@ (its lines changed upstream)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("1 patch(es) left after this one"),
        "{stdout}"
    );
    // Nothing exported yet.
    assert!(
        !fixture
            .root()
            .join("patches/hello/3/common/0001-greeting-says-patched.patch")
            .exists()
    );

    let dir = fixture.workspace("c/hello-3.0", "wasmtime");
    let conflicted = std::fs::read_to_string(dir.join("util.c")).unwrap();
    assert!(
        conflicted.contains("<<<<<<< c/hello-3.0 + series"),
        "{conflicted}"
    );
    let continue_in = |dir: &Path| {
        Output::of(
            fixture
                .wlmake()
                .current_dir(dir)
                .args(["patch", "rebase", "--continue"])
                .output()
                .unwrap(),
        )
    };
    let out = continue_in(&dir).failed();
    assert!(
        out.stderr
            .contains("unresolved conflicts remain:\n    util.c"),
        "{}",
        out.stderr
    );

    // Resolve: keep the patch's change on the new upstream.
    let resolved = UTIL_C.replace("value * 2", "value + value");
    write(
        &dir.join("util.c"),
        &format!("/* version 2 */\n/* moved lines */\n{resolved}"),
    );
    git(&dir, &["add", "util.c"]);
    let out = continue_in(&dir).ok();
    assert!(
        out.stdout
            .contains("conflicted, resolved       common/0002-twice-by-addition.patch"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("2 applied, 1 resolved, 0 already upstream, 0 skipped"),
        "{}",
        out.stdout
    );
    let exported = std::fs::read_to_string(
        fixture
            .root()
            .join("patches/hello/3/common/0002-twice-by-addition.patch"),
    )
    .unwrap();
    assert!(
        exported.contains("-    return value << 1;\n+    return value + value;\n"),
        "{exported}"
    );
    assert!(exported.starts_with("Subject: util: twice() by addition\n\nSome targets"));
    fixture.run(&["patch", "check", "c/hello-3.0"]).ok();
}

#[test]
fn rebase_skip_and_abort() {
    let fixture = Fixture::new();
    let args = [
        "patch",
        "rebase",
        "c/hello-1.0",
        "--onto",
        "c/hello-3.0",
        "-r",
        "wasmtime",
        "--export-to",
        "exported",
    ];
    fixture.run(&args).failed();
    let out = fixture
        .run(&[
            "patch",
            "rebase",
            "--skip",
            "--onto",
            "c/hello-3.0",
            "-r",
            "wasmtime",
        ])
        .ok();
    assert!(
        out.stdout
            .contains("skipped                    common/0002-twice-by-addition.patch"),
        "{}",
        out.stdout
    );
    // --export-to leaves the recipe's folders alone.
    let exported = files_under(&fixture.root().join("exported"));
    assert_eq!(
        exported.keys().collect::<Vec<_>>(),
        vec![
            "common/0001-greeting-says-patched.patch",
            "wasmtime/0001-flush-before-exit.patch"
        ]
    );
    assert!(
        !fixture
            .root()
            .join("patches/hello/3/common/0001-greeting-says-patched.patch")
            .exists()
    );

    let mut forced = args.to_vec();
    forced.push("--force");
    fixture.run(&forced).failed();
    let dir = fixture.workspace("c/hello-3.0", "wasmtime");
    let out = Output::of(
        fixture
            .wlmake()
            .current_dir(&dir)
            .args(["patch", "rebase", "--abort"])
            .output()
            .unwrap(),
    )
    .ok();
    assert!(out.stdout.contains("rebase aborted"), "{}", out.all());
    assert!(!dir.exists());
}

#[test]
fn new_recipe_fails_lint_until_its_checksum_is_filled_in() {
    let fixture = Fixture::new();
    write(
        &fixture.root().join("recipes/c/tool-1.4.2.toml"),
        r#"# Tool 1.4.2: the release everyone uses.
[package]
language = "c"
name = "tool"
version = "1.4.2"
runtimes = ["wasmtime"]

[source]
url = "https://example.invalid/tool-1.4.2.tar.gz"
sha256 = "1111111111111111111111111111111111111111111111111111111111111111"
strip-prefix = "tool-1.4.2"

[patches]
common = "patches/hello/1/common"

[[artifact]]
name = "tool"
path = "tool"

[[test]]
name = "version"
artifact = "tool"
args = ["--version"]
expect-pattern = "^tool 1\\.4\\.2 \\(not 11\\.4\\.2\\)"
"#,
    );
    fixture.run(&["lint"]).ok();
    let out = fixture
        .run(&[
            "new",
            "c/tool-1.4.3",
            "--from",
            "c/tool-1.4.2",
            "--patches",
            "patches/tool/1.4.3",
        ])
        .ok();
    assert!(
        out.stdout
            .contains("created recipes/c/tool-1.4.3.toml from c/tool-1.4.2"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("todo: fill in source.sha256"),
        "{}",
        out.stdout
    );
    let path = fixture.root().join("recipes/c/tool-1.4.3.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(
        text.contains("url = \"https://example.invalid/tool-1.4.3.tar.gz\""),
        "{text}"
    );
    assert!(text.contains("strip-prefix = \"tool-1.4.3\""), "{text}");
    assert!(text.contains("version = \"1.4.3\""), "{text}");
    assert!(
        text.contains("^tool 1\\\\.4\\\\.3 \\\\(not 11\\\\.4\\\\.2\\\\)"),
        "{text}"
    );
    assert!(
        text.contains("common = \"patches/tool/1.4.3/common\""),
        "{text}"
    );
    assert!(!text.contains("the release everyone uses"), "{text}");
    assert!(
        fixture
            .root()
            .join("patches/tool/1.4.3/common/.keep")
            .is_file()
    );

    let out = fixture.run(&["lint"]).failed();
    assert!(
        out.stderr.contains("tool-1.4.3.toml")
            && out
                .stderr
                .contains("sha256 `FILL-IN: sha256 of tool-1.4.3.tar.gz` is not 64 hex digits"),
        "{}",
        out.stderr
    );
    std::fs::write(
        &path,
        text.replace(
            "FILL-IN: sha256 of tool-1.4.3.tar.gz",
            "2222222222222222222222222222222222222222222222222222222222222222",
        ),
    )
    .unwrap();
    fixture.run(&["lint"]).ok();
    // Not twice.
    let out = fixture
        .run(&["new", "c/tool-1.4.3", "--from", "c/tool-1.4.2"])
        .failed();
    assert!(out.stderr.contains("already exists"), "{}", out.stderr);
}

/// The walkthrough of docs/patch-workflow.md, step by step, on the real PHP 7.4.33 tree:
/// start the wasmedge workspace, change the version banner with ordinary git, export it
/// into the wasmedge set, build, and see the banner, run by `wlmake run` on WasmEdge (a
/// real one when installed, else the test host: the build imports WasmEdge's socket calls).
#[test]
fn walkthrough_banner_patch_for_the_wasmedge_flavor() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let copy = tempfile::tempdir().unwrap();
    let root = copy.path();
    for folder in ["recipes", "patches", "compat", "runtimes", "tests/smoke"] {
        copy_dir(&repo.join(folder), &root.join(folder));
    }
    let wlmake = || {
        let mut command = Command::cargo_bin("wlmake").unwrap();
        command
            .current_dir(root)
            .env_remove("WLMAKE_REPO")
            .env("WLMAKE_WORK_DIR", root.join("work"))
            .env("WLMAKE_OUTPUT_DIR", root.join("build-output"))
            .timeout(std::time::Duration::from_secs(1800));
        command
    };

    // 1. The workspace: the pristine 7.4.33 and the series as commits.
    let out = Output::of(
        wlmake()
            .args(["patch", "start", "php/php-7.4.33", "--runtime", "wasmedge"])
            .output()
            .unwrap(),
    )
    .ok();
    let dir = PathBuf::from(out.stdout.trim());
    assert_eq!(dir, root.join("work/patch/php/php-7.4.33/wasmedge"));
    let log = git(&dir, &["log", "--oneline"]);
    assert!(log.contains("Upstream php/php-7.4.33"), "{log}");

    // 2. Change the banner and commit it with git.
    edit(
        &dir.join("sapi/cli/php_cli.c"),
        "( %s)\\nCopyright (c) The PHP Group",
        "( %s) (wlmake wasmedge flavor)\\nCopyright (c) The PHP Group",
    );
    git(
        &dir,
        &[
            "commit",
            "-qam",
            "cli: name the wasmedge flavor in the version banner\n\nShows which build of php.wasm is running.",
        ],
    );

    // 3. Export it into the wasmedge set.
    let out = Output::of(
        wlmake()
            .current_dir(&dir)
            .args(["patch", "export", "--set", "wasmedge"])
            .output()
            .unwrap(),
    )
    .ok();
    let name =
        "patches/php/7.4/wasmedge/0001-cli-name-the-wasmedge-flavor-in-the-version-banner.patch";
    assert!(
        out.stdout.contains(&format!("new       {name}")),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("1 new, 0 updated, 0 removed"),
        "{}",
        out.stdout
    );
    let patch = std::fs::read_to_string(root.join(name)).unwrap();
    assert!(
        patch.starts_with("Subject: cli: name the wasmedge flavor in the version banner\n\nShows which build of php.wasm is running.\n\ndiff --git a/sapi/cli/php_cli.c b/sapi/cli/php_cli.c\n"),
        "{patch}"
    );
    Output::of(
        wlmake()
            .args(["patch", "check", "php/php-7.4.33"])
            .output()
            .unwrap(),
    )
    .ok();

    // 4. Build the wasmedge flavor and see the banner.
    Output::of(
        wlmake()
            .args(["build", "php/php-7.4.33", "--runtime", "wasmedge"])
            .output()
            .unwrap(),
    )
    .ok();
    let run = wlmake()
        .env("WLMAKE_WASMEDGE", crate::support::wasmedge())
        .args(["run", "php/php-7.4.33", "--runtime", "wasmedge", "--", "-v"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(
        run.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let first = stdout.lines().next().unwrap_or_default();
    assert!(first.starts_with("PHP 7.4.33 (cli)"), "{stdout}");
    assert!(first.ends_with("(wlmake wasmedge flavor)"), "{stdout}");
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap().flatten() {
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}
