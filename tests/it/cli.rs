//! The command line as users see it: help, errors, exit codes (snapshots).

use std::path::Path;

use assert_cmd::Command;

/// The cache folder of this module's runs: in cargo's scratch folder, not the repository.
fn cache_dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("cli-cache")
}

fn wlmake_in(dir: &Path) -> Command {
    let mut command = Command::cargo_bin("wlmake").unwrap();
    command
        .current_dir(dir)
        .env_remove("WLMAKE_REPO")
        .env("WLMAKE_CACHE_DIR", cache_dir())
        .env("COLUMNS", "100");
    command
}

fn repo_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn run(command: &mut Command) -> (i32, String, String) {
    let out = command.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn help() {
    let (code, stdout, _) = run(wlmake_in(repo_root()).arg("--help"));
    assert_eq!(code, 0);
    insta::assert_snapshot!(stdout);
}

#[test]
fn build_help() {
    let (code, stdout, _) = run(wlmake_in(repo_root()).args(["build", "--help"]));
    assert_eq!(code, 0);
    insta::assert_snapshot!(stdout);
}

#[test]
fn unknown_recipe_suggests_close_ids() {
    let (code, _, stderr) = run(wlmake_in(repo_root()).args(["show", "php/php-7.4.99"]));
    assert_eq!(code, 2);
    insta::assert_snapshot!(stderr);
}

#[test]
fn unknown_profile_is_refused_with_the_list() {
    let (code, _, stderr) =
        run(wlmake_in(repo_root()).args(["build", "php/php-8.2.32", "--profile", "fast"]));
    assert_eq!(code, 2);
    insta::assert_snapshot!(stderr);
}

#[test]
fn unknown_runtime_is_refused() {
    let (code, _, stderr) =
        run(wlmake_in(repo_root()).args(["run", "php/php-7.4.33", "--runtime", "nodejs"]));
    assert_eq!(code, 2);
    insta::assert_snapshot!(stderr);
}

#[test]
fn list_shows_recipes_with_runtimes() {
    let (code, stdout, _) = run(wlmake_in(repo_root()).arg("list"));
    assert_eq!(code, 0);
    assert!(
        stdout
            .lines()
            .any(|l| l.starts_with("php/php-7.4.33") && l.ends_with("wasmtime, wasmedge")),
        "{stdout}"
    );
}

#[test]
fn show_json_is_the_resolved_recipe() {
    let (code, stdout, _) = run(wlmake_in(repo_root()).args(["show", "php/php-7.4.33", "--json"]));
    assert_eq!(code, 0);
    let json: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(json["id"], "php/php-7.4.33");
    assert_eq!(json["source"]["kind"], "archive");
    assert_eq!(json["source"]["debian"]["package"], "php7.4");
    assert_eq!(
        json["patches"]["runtime"]["wasmedge"],
        "patches/php/7.4/wasmedge"
    );
    assert_eq!(json["artifacts"][1]["name"], "php-cgi");
}

#[test]
fn lint_passes_on_the_repository() {
    let (code, _, stderr) = run(wlmake_in(repo_root()).arg("lint"));
    assert_eq!(code, 0, "{stderr}");
}

#[test]
fn lint_reports_every_problem_with_file_line_column() {
    let dir = tempfile::tempdir().unwrap();
    let recipes = dir.path().join("recipes/c");
    std::fs::create_dir_all(&recipes).unwrap();
    std::fs::write(
        recipes.join("a-1.0.toml"),
        "[package]\nlanguage = \"c\"\nname = \"a\"\nversion = \"1.0\"\n\n[source]\nurl = \"https://example.invalid/a-1.0.tar.gz\"\n",
    )
    .unwrap();
    std::fs::write(
        recipes.join("b-1.0.toml"),
        "[package]\nlanguage = \"c\"\nname = \"b\"\nversion = \"1.0\"\ncolour = \"red\"\n\n[source]\npath = \"b\"\n",
    )
    .unwrap();
    std::fs::write(recipes.join("c-1.0.toml"), "[package\nlanguage = \"c\"\n").unwrap();
    let (code, _, stderr) = run(wlmake_in(dir.path()).arg("lint"));
    assert_ne!(code, 0);
    insta::assert_snapshot!(stderr);
}

#[test]
fn outside_a_repository_the_error_says_where_to_run() {
    let dir = tempfile::tempdir().unwrap();
    let (code, _, stderr) = run(wlmake_in(dir.path()).arg("list"));
    assert_eq!(code, 2);
    assert!(
        stderr.contains("hint: run wlmake inside its repository, or set WLMAKE_REPO"),
        "{stderr}"
    );
}

#[test]
fn doctor_reports_the_toolchain_and_wasmtime_with_versions() {
    let (code, stdout, stderr) = run(wlmake_in(repo_root()).arg("doctor"));
    assert_eq!(code, 0, "{stdout}{stderr}");
    let line = |what: &str| {
        stdout
            .lines()
            .find(|l| l.contains(what))
            .unwrap_or_default()
            .to_string()
    };
    assert!(
        line("clang").starts_with("ok") && line("clang").contains("clang version 16"),
        "{stdout}"
    );
    assert!(line("wasi-libc").starts_with("ok"), "{stdout}");
    assert!(
        line("wasmtime").starts_with("ok") && line("wasmtime").contains("wasmtime 49"),
        "{stdout}"
    );
    // No registry ships WasmEdge: doctor says how to get it instead of failing.
    let wasmedge = line("wasmedge");
    assert!(
        wasmedge.starts_with("ok") || wasmedge.contains("WLMAKE_WASMEDGE"),
        "{stdout}"
    );

    // The same checks as JSON: one entry per line above, by group.
    let out = wlmake_in(repo_root())
        .args(["doctor", "--json"])
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["ok"], out.status.success());
    let checks = report["checks"].as_array().unwrap();
    let check = |name: &str| {
        checks
            .iter()
            .find(|c| c["check"] == name)
            .unwrap_or_else(|| panic!("no check {name}: {report:#}"))
    };
    assert_eq!(check("clang")["group"], "toolchain");
    assert_eq!(check("clang")["ok"], true);
    assert_eq!(check("wasmtime")["group"], "runtimes");
    assert!(check("build isolation")["detail"].is_string());
    // Both container engines are reported, working or not (with the flags a working one
    // gets here).
    for engine in ["docker", "podman"] {
        assert_eq!(check(engine)["group"], "containers (build --container)");
        if check(engine)["ok"] == true {
            let detail = check(engine)["detail"].as_str().unwrap();
            assert!(detail.contains("run --init"), "{detail}");
        }
    }
    let lines = stdout
        .lines()
        .filter(|l| l.starts_with("ok") || l.starts_with("missing"));
    assert_eq!(lines.count(), checks.len(), "{stdout}\n{report:#}");
}

/// `wlmake list | head -0`: a reader that has gone away ends the output quietly
/// (SIGPIPE), not with a panic message.
#[test]
fn a_closed_output_pipe_is_not_a_panic() {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_wlmake"))
        .current_dir(repo_root())
        .env_remove("WLMAKE_REPO")
        .arg("list")
        .stdout(writer)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(!out.status.success());
}

#[test]
fn an_unusable_runtime_variable_is_an_error_not_a_fall_back_to_path() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no-wasmtime-here");
    let (_, stdout, _) = run(wlmake_in(repo_root())
        .env("WLMAKE_WASMTIME", &missing)
        .arg("doctor"));
    let line = stdout
        .lines()
        .find(|l| l.contains("wasmtime") && !l.contains("hint"))
        .unwrap_or_default();
    assert!(line.starts_with("missing"), "{stdout}");
    assert!(
        line.contains(&format!(
            "WLMAKE_WASMTIME=`{}` cannot be used",
            missing.display()
        )),
        "{stdout}"
    );
}

#[test]
fn completions_and_man_page_come_from_the_command_definitions() {
    let (code, stdout, _) = run(wlmake_in(repo_root()).args(["completions", "bash"]));
    assert_eq!(code, 0);
    assert!(stdout.contains("_wlmake()"), "{stdout}");
    for command in ["build", "release-assets", "completions"] {
        assert!(
            stdout.contains(command),
            "`{command}` missing from completions"
        );
    }
    let (code, stdout, _) = run(wlmake_in(repo_root()).args(["completions", "fish"]));
    assert_eq!(code, 0);
    assert!(stdout.contains("complete -c wlmake"), "{stdout}");

    let (code, page, _) = run(wlmake_in(repo_root()).arg("man"));
    assert_eq!(code, 0);
    assert!(page.contains(".TH wlmake 1"), "{page}");
    assert!(page.contains("Exit codes"), "{page}");
    let dir = tempfile::tempdir().unwrap();
    let (code, _, stderr) = run(wlmake_in(repo_root())
        .args(["man", "--out-dir"])
        .arg(dir.path()));
    assert_eq!(code, 0, "{stderr}");
    let build = std::fs::read_to_string(dir.path().join("wlmake-build.1")).unwrap();
    assert!(build.contains("\\-\\-runtime"), "{build}");
}

#[test]
fn exit_codes_say_what_kind_of_failure_it_was() {
    let dir = tempfile::tempdir().unwrap();
    // Nothing built in this output folder: a failure (1) that says how to build.
    let (code, _, stderr) = run(wlmake_in(repo_root())
        .env("WLMAKE_OUTPUT_DIR", dir.path().join("out"))
        .args(["run", "php/php-7.4.33", "--runtime", "wasmedge", "--", "-v"]));
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("wlmake build php/php-7.4.33 --runtime wasmedge"),
        "{stderr}"
    );
    // No toolchain on PATH: a missing tool (4).
    let empty = dir.path().join("empty-bin");
    std::fs::create_dir_all(&empty).unwrap();
    let (code, _, stderr) = run(wlmake_in(repo_root())
        .env("PATH", &empty)
        .env_remove("WASI_SDK_PATH")
        .env("WLMAKE_WORK_DIR", dir.path().join("work"))
        .env("WLMAKE_OUTPUT_DIR", dir.path().join("out"))
        .args(["build", "php/php-7.4.33", "--runtime", "wasmtime"]));
    assert_eq!(code, 4, "{stderr}");
    assert!(stderr.contains("no wasm toolchain found"), "{stderr}");
    // A bad flag value: bad input (2).
    let (code, _, _) = run(wlmake_in(repo_root()).args(["completions", "tcsh"]));
    assert_eq!(code, 2);
}
