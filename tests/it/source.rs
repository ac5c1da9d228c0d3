//! `wlmake::source`: fetching through the cache, mirrors, URLs and apt; git and path
//! sources; safe extraction. Everything is real: an HTTP server on 127.0.0.1, archives
//! built with the tar/flate2/xz2/bzip2 crates, repositories made with git2.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use tempfile::TempDir;
use wlmake::recipe::{ArchiveSource, DebianSource, GitSource, PathSource, Sha256, SourceSpec};
use wlmake::reporter::SilentReporter;
use wlmake::source::{
    self, Cache, FailureReason, FetchOptions, Mirror, SourceError, extract_archive, fetch, prepare,
};

use crate::support::archive::{self, Item, dir, executable, file, hardlink, symlink};
use crate::support::git::TestRepository;
use crate::support::http::{Route, TestServer, refused_url};
use crate::support::https::{HttpsServer, PrivateCa};
use crate::support::reporter::RecordingReporter;
use crate::support::sha256_hex;

// ---------------------------------------------------------------------------------------
// helpers

const FILE_NAME: &str = "pkg-1.0.tar.gz";

fn sample_archive() -> Vec<u8> {
    archive::tar_gz(&[
        dir("pkg-1.0/"),
        file("pkg-1.0/README", "hello\n"),
        executable("pkg-1.0/bin/run", "#!/bin/sh\necho run\n"),
    ])
}

fn new_cache() -> (TempDir, Cache) {
    let folder = tempfile::tempdir().unwrap();
    let cache = Cache::new(folder.path().join("cache")).unwrap();
    (folder, cache)
}

fn offline() -> FetchOptions {
    FetchOptions {
        mirrors: Vec::new(),
        use_apt: false,
    }
}

fn archive_source(urls: Vec<String>, bytes: &[u8]) -> ArchiveSource {
    ArchiveSource {
        urls,
        sha256: Sha256::parse(&sha256_hex(bytes)).unwrap(),
        file_name: FILE_NAME.to_string(),
        debian: None,
        upstream: None,
        strip_prefix: Some("pkg-1.0".to_string()),
    }
}

fn spec(source: ArchiveSource) -> SourceSpec {
    SourceSpec::Archive(source)
}

/// Files in the entry's cache bucket, besides the lock file.
fn bucket_files(cache: &Cache, source: &ArchiveSource) -> Vec<String> {
    let bucket = cache
        .archive_path(&source.sha256, &source.file_name)
        .parent()
        .unwrap()
        .to_path_buf();
    let Ok(entries) = fs::read_dir(bucket) else {
        return Vec::new();
    };
    let mut names: Vec<String> = entries
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name != ".lock")
        .collect();
    names.sort();
    names
}

fn folder_names(folder: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(folder)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

fn attempts(error: &SourceError) -> Vec<(String, String)> {
    match error {
        SourceError::AllProvidersFailed { attempts, .. } => attempts
            .iter()
            .map(|attempt| (attempt.provider.clone(), attempt.reason.to_string()))
            .collect(),
        other => panic!("expected AllProvidersFailed, got {other:?}"),
    }
}

// ---------------------------------------------------------------------------------------
// archives: providers

#[test]
fn archive_from_url_is_verified_and_cached() {
    let bytes = sample_archive();
    let server = TestServer::start([("/pkg.tar.gz", Route::Bytes(bytes.clone()))]);
    let (_folder, cache) = new_cache();
    let source = archive_source(vec![server.url("/pkg.tar.gz")], &bytes);
    let reporter = RecordingReporter::default();

    let fetched = fetch(&spec(source.clone()), &cache, &offline(), &reporter).unwrap();

    assert_eq!(fetched.provider, server.url("/pkg.tar.gz"));
    assert_eq!(fetched.path, cache.archive_path(&source.sha256, FILE_NAME));
    assert_eq!(fetched.sha256.as_ref(), Some(&source.sha256));
    assert_eq!(fs::read(&fetched.path).unwrap(), bytes);
    assert_eq!(bucket_files(&cache, &source), vec![FILE_NAME.to_string()]);
    assert!(
        fs::read_to_string(cache.root().join("CACHEDIR.TAG"))
            .unwrap()
            .starts_with("Signature: 8a477f597d28d172789f06886806bc55")
    );
    // Progress: the announced total is the Content-Length, the advances add up to it.
    let (label, total, advanced) = reporter.task("download").expect("a download task");
    assert_eq!(label, format!("download {FILE_NAME}"));
    assert_eq!(total, Some(bytes.len() as u64));
    assert_eq!(advanced, bytes.len() as u64);
}

#[test]
fn archive_from_mirror_folder_before_urls() {
    let bytes = sample_archive();
    let server = TestServer::start([("/pkg.tar.gz", Route::Bytes(bytes.clone()))]);
    let (folder, cache) = new_cache();
    let mirror = folder.path().join("mirror");
    fs::create_dir(&mirror).unwrap();
    fs::write(mirror.join(FILE_NAME), &bytes).unwrap();
    let options = FetchOptions {
        mirrors: vec![Mirror::Dir(mirror.clone())],
        use_apt: false,
    };
    let source = archive_source(vec![server.url("/pkg.tar.gz")], &bytes);

    let fetched = fetch(&spec(source), &cache, &options, &SilentReporter).unwrap();

    assert_eq!(
        fetched.provider,
        format!("mirror {}", mirror.join(FILE_NAME).display())
    );
    assert_eq!(fs::read(&fetched.path).unwrap(), bytes);
    assert_eq!(
        server.total_hits(),
        0,
        "the recipe's URL must not be contacted"
    );
}

#[test]
fn archive_from_mirror_folder_under_debian_name() {
    let bytes = sample_archive();
    let (folder, cache) = new_cache();
    let mirror = folder.path().join("mirror");
    fs::create_dir(&mirror).unwrap();
    fs::write(mirror.join("pkg_1.0.orig.tar.gz"), &bytes).unwrap();
    let mut source = archive_source(vec![], &bytes);
    source.debian = Some(DebianSource {
        package: "pkg".to_string(),
        file: "pkg_1.0.orig.tar.gz".to_string(),
    });
    let options = FetchOptions {
        mirrors: vec![Mirror::Dir(mirror.clone())],
        use_apt: false,
    };

    let fetched = fetch(&spec(source.clone()), &cache, &options, &SilentReporter).unwrap();

    assert!(
        fetched.provider.ends_with("pkg_1.0.orig.tar.gz"),
        "{}",
        fetched.provider
    );
    // Cached under the recipe's file name, whatever the mirror called it.
    assert_eq!(fetched.path, cache.archive_path(&source.sha256, FILE_NAME));
}

#[test]
fn archive_from_mirror_url_before_recipe_urls() {
    let bytes = sample_archive();
    let mirror = TestServer::start([(format!("/base/{FILE_NAME}"), Route::Bytes(bytes.clone()))]);
    let upstream = TestServer::start([("/pkg.tar.gz", Route::Bytes(bytes.clone()))]);
    let (_folder, cache) = new_cache();
    let options = FetchOptions {
        mirrors: vec![Mirror::Url(format!("{}/", mirror.url("/base")))],
        use_apt: false,
    };
    let source = archive_source(vec![upstream.url("/pkg.tar.gz")], &bytes);

    let fetched = fetch(&spec(source), &cache, &options, &SilentReporter).unwrap();

    assert_eq!(
        fetched.provider,
        format!("mirror {}", mirror.url(&format!("/base/{FILE_NAME}")))
    );
    assert_eq!(mirror.hits(&format!("/base/{FILE_NAME}")), 1);
    assert_eq!(upstream.total_hits(), 0);
}

#[test]
fn later_url_used_when_the_first_fails() {
    let bytes = sample_archive();
    let server = TestServer::start([
        ("/missing.tar.gz", Route::Status(404)),
        ("/pkg.tar.gz", Route::Bytes(bytes.clone())),
    ]);
    let (_folder, cache) = new_cache();
    let source = archive_source(
        vec![server.url("/missing.tar.gz"), server.url("/pkg.tar.gz")],
        &bytes,
    );

    let fetched = fetch(&spec(source), &cache, &offline(), &SilentReporter).unwrap();

    assert_eq!(fetched.provider, server.url("/pkg.tar.gz"));
    assert_eq!(server.hits("/missing.tar.gz"), 1);
}

#[test]
fn cache_hit_does_not_contact_the_server() {
    let bytes = sample_archive();
    let server = TestServer::start([("/pkg.tar.gz", Route::Bytes(bytes.clone()))]);
    let (_folder, cache) = new_cache();
    let source = spec(archive_source(vec![server.url("/pkg.tar.gz")], &bytes));

    let first = fetch(&source, &cache, &offline(), &SilentReporter).unwrap();
    let second = fetch(&source, &cache, &offline(), &SilentReporter).unwrap();

    assert_eq!(second.provider, "cache");
    assert_eq!(second.path, first.path);
    assert_eq!(server.total_hits(), 1);
}

#[test]
fn corrupted_cache_entry_is_fetched_again() {
    let bytes = sample_archive();
    let server = TestServer::start([("/pkg.tar.gz", Route::Bytes(bytes.clone()))]);
    let (_folder, cache) = new_cache();
    let source = spec(archive_source(vec![server.url("/pkg.tar.gz")], &bytes));
    let first = fetch(&source, &cache, &offline(), &SilentReporter).unwrap();
    fs::write(&first.path, b"bit rot").unwrap();
    let reporter = RecordingReporter::default();

    let second = fetch(&source, &cache, &offline(), &reporter).unwrap();

    assert_eq!(second.provider, server.url("/pkg.tar.gz"));
    assert_eq!(fs::read(&second.path).unwrap(), bytes);
    assert_eq!(server.total_hits(), 2);
    assert!(
        reporter.events().iter().any(|event| matches!(
            event,
            crate::support::reporter::Event::Info(text) if text.contains("corrupted")
        )),
        "the user is told about the corrupted entry"
    );
}

#[test]
fn temp_files_of_a_killed_process_are_cleaned_up() {
    let bytes = sample_archive();
    let server = TestServer::start([("/pkg.tar.gz", Route::Bytes(bytes.clone()))]);
    let (_folder, cache) = new_cache();
    let source = archive_source(vec![server.url("/pkg.tar.gz")], &bytes);
    let bucket = cache
        .archive_path(&source.sha256, FILE_NAME)
        .parent()
        .unwrap()
        .to_path_buf();
    fs::create_dir_all(bucket.join(".apt-stale/sub")).unwrap();
    fs::write(bucket.join(".download-stale"), b"half a download").unwrap();

    fetch(&spec(source.clone()), &cache, &offline(), &SilentReporter).unwrap();

    assert_eq!(bucket_files(&cache, &source), vec![FILE_NAME.to_string()]);
}

#[test]
fn checksum_mismatch_names_both_digests_and_leaves_nothing() {
    let bytes = sample_archive();
    let other = b"not the archive the recipe pins".to_vec();
    let server = TestServer::start([("/pkg.tar.gz", Route::Bytes(other.clone()))]);
    let (_folder, cache) = new_cache();
    let source = archive_source(vec![server.url("/pkg.tar.gz")], &bytes);

    let error = fetch(&spec(source.clone()), &cache, &offline(), &SilentReporter).unwrap_err();

    let message = error.to_string();
    assert!(message.contains(&server.url("/pkg.tar.gz")), "{message}");
    assert!(message.contains(source.sha256.as_str()), "{message}");
    assert!(message.contains(&sha256_hex(&other)), "{message}");
    assert!(message.contains("checksum mismatch"), "{message}");
    assert!(error.hint().unwrap().contains("sha256"));
    assert_eq!(bucket_files(&cache, &source), Vec::<String>::new());
}

#[test]
fn http_404_is_reported_with_its_status() {
    let bytes = sample_archive();
    let server = TestServer::start([("/pkg.tar.gz", Route::Status(404))]);
    let (_folder, cache) = new_cache();
    let source = archive_source(vec![server.url("/pkg.tar.gz")], &bytes);

    let error = fetch(&spec(source.clone()), &cache, &offline(), &SilentReporter).unwrap_err();

    assert_eq!(
        attempts(&error),
        vec![(server.url("/pkg.tar.gz"), "HTTP status 404".to_string())]
    );
    assert_eq!(bucket_files(&cache, &source), Vec::<String>::new());
}

#[test]
fn http_500_is_reported_with_its_status() {
    let bytes = sample_archive();
    let server = TestServer::start([("/pkg.tar.gz", Route::Status(500))]);
    let (_folder, cache) = new_cache();
    let source = archive_source(vec![server.url("/pkg.tar.gz")], &bytes);

    let error = fetch(&spec(source), &cache, &offline(), &SilentReporter).unwrap_err();

    assert_eq!(
        attempts(&error),
        vec![(server.url("/pkg.tar.gz"), "HTTP status 500".to_string())]
    );
}

#[test]
fn connection_refused_is_a_clear_error() {
    let bytes = sample_archive();
    let url = refused_url("/pkg.tar.gz");
    let (_folder, cache) = new_cache();
    let source = archive_source(vec![url.clone()], &bytes);

    let error = fetch(&spec(source), &cache, &offline(), &SilentReporter).unwrap_err();

    assert_eq!(
        attempts(&error),
        vec![(url, "connection refused".to_string())]
    );
    assert!(error.hint().unwrap().contains("WLMAKE_MIRROR"));
}

#[test]
fn truncated_body_is_detected_and_never_cached() {
    let bytes = sample_archive();
    let server = TestServer::start([(
        "/pkg.tar.gz",
        Route::Truncated {
            claimed: bytes.len(),
            body: bytes[..bytes.len() / 2].to_vec(),
        },
    )]);
    let (_folder, cache) = new_cache();
    let source = archive_source(vec![server.url("/pkg.tar.gz")], &bytes);

    let error = fetch(&spec(source.clone()), &cache, &offline(), &SilentReporter).unwrap_err();

    let found = attempts(&error);
    assert_eq!(found.len(), 1);
    assert!(
        found[0].1.starts_with("truncated download"),
        "{}",
        found[0].1
    );
    assert!(
        matches!(
            &error,
            SourceError::AllProvidersFailed { attempts, .. }
                if matches!(attempts[0].reason, FailureReason::Truncated { .. })
        ),
        "{error:?}"
    );
    assert_eq!(bucket_files(&cache, &source), Vec::<String>::new());
}

/// `wlmake fetch` of an archive served over HTTPS by a server whose certificate a
/// private CA signed: without that CA the download fails with a TLS error naming the host
/// and a hint at SSL_CERT_FILE; with SSL_CERT_FILE naming the CA it succeeds.
#[test]
fn https_from_a_private_ca_works_with_ssl_cert_file() {
    let dir = tempfile::tempdir().unwrap();
    let ca = PrivateCa::create(dir.path());
    let served = dir.path().join("served");
    fs::create_dir_all(&served).unwrap();
    let bytes = sample_archive();
    fs::write(served.join(FILE_NAME), &bytes).unwrap();
    let server = HttpsServer::start(&served, &ca);

    let repo = dir.path().join("repo");
    fs::create_dir_all(repo.join("recipes/lib")).unwrap();
    fs::write(
        repo.join("recipes/lib/pkg-1.0.toml"),
        format!(
            "[package]\nlanguage = \"lib\"\nname = \"pkg\"\nversion = \"1.0\"\n\
             runtimes = [\"wasmtime\"]\n\n[source]\nurl = \"{}\"\nsha256 = \"{}\"\n\
             strip-prefix = \"pkg-1.0\"\n\n[build]\nsystem = \"make\"\n\n\
             [library]\narchives = [\"lib/libpkg.a\"]\n",
            server.url(&format!("/{FILE_NAME}")),
            sha256_hex(&bytes)
        ),
    )
    .unwrap();
    let fetch = |cert_file: Option<&Path>| {
        let mut command = assert_cmd::Command::cargo_bin("wlmake").unwrap();
        command
            .args(["fetch", "lib/pkg-1.0"])
            .current_dir(&repo)
            .env("WLMAKE_REPO", &repo)
            .env("WLMAKE_CACHE_DIR", dir.path().join("cache"))
            .env("WLMAKE_WORK_DIR", dir.path().join("work"))
            .env("WLMAKE_APT", "0")
            .env_remove("WLMAKE_MIRROR")
            .env_remove("SSL_CERT_DIR")
            .env_remove("SSL_CERT_FILE");
        for proxy in ["HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"] {
            command.env_remove(proxy);
        }
        if let Some(file) = cert_file {
            command.env("SSL_CERT_FILE", file);
        }
        let out = command.output().unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };

    let (ok, stderr) = fetch(None);
    assert!(!ok, "{stderr}");
    assert!(stderr.contains("TLS error with 127.0.0.1"), "{stderr}");
    assert!(stderr.contains("UnknownIssuer"), "{stderr}");
    assert!(stderr.contains("SSL_CERT_FILE"), "{stderr}");
    assert!(
        stderr.starts_with("error:"),
        "no log noise before the error: {stderr}"
    );

    let (ok, stderr) = fetch(Some(&ca.ca));
    assert!(ok, "{stderr}");
    let fetched: Vec<PathBuf> = walk(&dir.path().join("work"))
        .into_iter()
        .filter(|path| path.ends_with("README"))
        .collect();
    assert_eq!(fetched.len(), 1, "{fetched:?}");
    assert_eq!(fs::read_to_string(&fetched[0]).unwrap(), "hello\n");
}

/// Every file under `root`.
fn walk(root: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(folder) = pending.pop() {
        for entry in fs::read_dir(&folder).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
            } else {
                found.push(path);
            }
        }
    }
    found
}

#[test]
fn every_attempt_is_listed_in_order() {
    let bytes = sample_archive();
    let server = TestServer::start([("/gone.tar.gz", Route::Status(404))]);
    let refused = refused_url("/pkg.tar.gz");
    let (folder, cache) = new_cache();
    let empty_mirror = folder.path().join("empty-mirror");
    fs::create_dir(&empty_mirror).unwrap();
    let options = FetchOptions {
        mirrors: vec![Mirror::Dir(empty_mirror.clone())],
        use_apt: false,
    };
    let source = archive_source(vec![server.url("/gone.tar.gz"), refused.clone()], &bytes);

    let error = fetch(&spec(source), &cache, &options, &SilentReporter).unwrap_err();

    let listed = attempts(&error);
    let providers: Vec<&str> = listed
        .iter()
        .map(|(provider, _)| provider.as_str())
        .collect();
    assert_eq!(
        providers,
        vec![
            format!("mirror {}", empty_mirror.display()).as_str(),
            server.url("/gone.tar.gz").as_str(),
            refused.as_str(),
        ]
    );
    let message = error.to_string();
    assert!(
        message.contains(&format!("no such file (looked for {FILE_NAME})")),
        "{message}"
    );
    assert!(message.contains("HTTP status 404"), "{message}");
    assert!(message.contains("connection refused"), "{message}");
}

#[test]
fn apt_without_deb_src_gets_a_deb_src_hint() {
    // The hint is built from the attempts; apt itself is exercised for real in
    // `debian_source_package_for_real`.
    let error = SourceError::AllProvidersFailed {
        file_name: "php-7.4.33.tar.xz".to_string(),
        sha256: "924846abf93bc613815c55dd3f5809377813ac62a9ec4eb3778675b82a27b927".to_string(),
        attempts: vec![source::Attempt {
            provider: "apt-get source php7.4".to_string(),
            reason: FailureReason::AptNoSourceEntries {
                file: "php7.4_7.4.33.orig.tar.xz".to_string(),
                message: "You must put some 'deb-src' URIs in your sources.list".to_string(),
            },
        }],
    };
    let hint = error.hint().unwrap();
    assert!(hint.contains("Types: deb-src"), "{hint}");
    assert!(hint.contains("apt-get update"), "{hint}");
    assert!(hint.contains("WLMAKE_MIRROR"), "{hint}");
    assert!(hint.contains("php7.4_7.4.33.orig.tar.xz"), "{hint}");
    assert!(
        error
            .to_string()
            .contains("apt-get source php7.4: no deb-src entries")
    );
}

#[test]
fn concurrent_fetches_download_once() {
    let bytes = {
        // Big enough that the threads really overlap.
        let payload: Vec<u8> = (0..2_000_000u32).map(|i| (i * 7 % 251) as u8).collect();
        archive::tar_gz(&[Item::File("pkg-1.0/blob".to_string(), payload)])
    };
    let server = TestServer::start([("/pkg.tar.gz", Route::Bytes(bytes.clone()))]);
    let (_folder, cache) = new_cache();
    let source = Arc::new(spec(archive_source(
        vec![server.url("/pkg.tar.gz")],
        &bytes,
    )));
    let cache = Arc::new(cache);

    let threads: Vec<_> = (0..4)
        .map(|_| {
            let source = Arc::clone(&source);
            let cache = Arc::clone(&cache);
            std::thread::spawn(move || fetch(&source, &cache, &offline(), &SilentReporter))
        })
        .collect();
    let results: Vec<_> = threads.into_iter().map(|t| t.join().unwrap()).collect();

    let mut providers = Vec::new();
    for result in results {
        let fetched = result.unwrap();
        assert_eq!(fs::read(&fetched.path).unwrap(), bytes);
        providers.push(fetched.provider);
    }
    assert_eq!(server.hits("/pkg.tar.gz"), 1);
    assert_eq!(providers.iter().filter(|p| *p == "cache").count(), 3);
}

/// The Debian provider, for real: `apt-get source --download-only php7.4` must deliver
/// php.net's php-7.4.33.tar.xz. It needs apt with deb-src entries (see `.ci/install-deps`)
/// and the network path to the Debian archive, which only CI guarantees; so it runs only
/// when `WLMAKE_TEST_APT=1` (CI sets it) and otherwise prints why it skipped. apt is never
/// faked.
#[test]
fn debian_source_package_for_real() {
    if std::env::var("WLMAKE_TEST_APT").as_deref() != Ok("1") {
        eprintln!("skipped: set WLMAKE_TEST_APT=1 to run apt-get source for real");
        return;
    }
    let (_folder, cache) = new_cache();
    let source = ArchiveSource {
        // Unreachable without internet: the attempt fails fast, then apt delivers.
        urls: vec!["https://www.php.net/distributions/php-7.4.33.tar.xz".to_string()],
        sha256: Sha256::parse("924846abf93bc613815c55dd3f5809377813ac62a9ec4eb3778675b82a27b927")
            .unwrap(),
        file_name: "php-7.4.33.tar.xz".to_string(),
        debian: Some(DebianSource {
            package: "php7.4".to_string(),
            file: "php7.4_7.4.33.orig.tar.xz".to_string(),
        }),
        upstream: None,
        strip_prefix: Some("php-7.4.33".to_string()),
    };
    let options = FetchOptions {
        mirrors: Vec::new(),
        use_apt: true,
    };

    let fetched = fetch(&spec(source.clone()), &cache, &options, &SilentReporter).unwrap();

    assert!(
        fetched.provider == "apt source package php7.4" || fetched.provider == source.urls[0],
        "{}",
        fetched.provider
    );
    assert_eq!(
        fetched.path,
        cache.archive_path(&source.sha256, "php-7.4.33.tar.xz")
    );
    // The .dsc and debian tarball went away with the temp folder.
    assert_eq!(
        bucket_files(&cache, &source),
        vec!["php-7.4.33.tar.xz".to_string()]
    );
}

// ---------------------------------------------------------------------------------------
// extraction

fn extract_to_new(
    bytes: &[u8],
    file_name: &str,
    strip: Option<&str>,
) -> (TempDir, PathBuf, Result<(), SourceError>) {
    let folder = tempfile::tempdir().unwrap();
    let archive_path = folder.path().join(file_name);
    fs::write(&archive_path, bytes).unwrap();
    let dest = folder.path().join("work").join("tree");
    let result = extract_archive(&archive_path, &dest, strip, &SilentReporter);
    (folder, dest, result)
}

fn tree_items() -> Vec<Item> {
    vec![
        dir("pkg-1.0/"),
        file("pkg-1.0/README", "hello\n"),
        executable("pkg-1.0/configure", "#!/bin/sh\n"),
        dir("pkg-1.0/src/"),
        file("pkg-1.0/src/main.c", "int main(void) { return 0; }\n"),
        symlink("pkg-1.0/src/link.c", "main.c"),
        hardlink("pkg-1.0/COPY", "pkg-1.0/README"),
    ]
}

fn assert_tree(dest: &Path) {
    assert_eq!(fs::read_to_string(dest.join("README")).unwrap(), "hello\n");
    assert_eq!(
        fs::read_to_string(dest.join("src/link.c")).unwrap(),
        "int main(void) { return 0; }\n"
    );
    assert_eq!(
        fs::read_link(dest.join("src/link.c")).unwrap(),
        Path::new("main.c")
    );
    assert_eq!(fs::read_to_string(dest.join("COPY")).unwrap(), "hello\n");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(dest.join("configure"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o111, 0o111, "configure stays executable");
    }
}

#[test]
fn extracts_gzip_xz_and_bzip2_with_strip_prefix() {
    let tar = archive::tar(&tree_items());
    for (name, bytes) in [
        ("pkg-1.0.tar.gz", archive::gzip(&tar)),
        ("pkg-1.0.tgz", archive::gzip(&tar)),
        ("pkg-1.0.tar.xz", archive::xz(&tar)),
        ("pkg-1.0.tar.bz2", archive::bzip2(&tar)),
    ] {
        let (_folder, dest, result) = extract_to_new(&bytes, name, Some("pkg-1.0"));
        result.unwrap_or_else(|error| panic!("{name}: {error:?}"));
        assert_tree(&dest);
        assert_eq!(
            folder_names(&dest),
            vec!["COPY", "README", "configure", "src"],
            "{name}"
        );
    }
}

#[test]
fn extraction_without_strip_prefix_keeps_the_layout_and_reports_progress() {
    let bytes = archive::tar_gz(&tree_items());
    let folder = tempfile::tempdir().unwrap();
    let archive_path = folder.path().join("pkg-1.0.tar.gz");
    fs::write(&archive_path, &bytes).unwrap();
    let dest = folder.path().join("tree");
    let reporter = RecordingReporter::default();

    extract_archive(&archive_path, &dest, None, &reporter).unwrap();

    assert_tree(&dest.join("pkg-1.0"));
    let (label, total, advanced) = reporter.task("extract").unwrap();
    assert_eq!(label, "extract pkg-1.0.tar.gz");
    assert_eq!(total, Some(bytes.len() as u64));
    assert_eq!(advanced, bytes.len() as u64);
    // Only the tree is left next to dest: no temp folders.
    assert_eq!(folder_names(folder.path()), vec!["pkg-1.0.tar.gz", "tree"]);
}

#[test]
fn entry_outside_the_strip_prefix_is_an_error() {
    let bytes = archive::tar_gz(&[file("pkg-1.0/README", "hello\n"), file("other/file", "x")]);
    let (folder, dest, result) = extract_to_new(&bytes, "pkg.tar.gz", Some("pkg-1.0"));

    let error = result.unwrap_err();
    assert!(
        matches!(&error, SourceError::StripPrefix { entry, prefix, .. }
            if entry == "other/file" && prefix == "pkg-1.0"),
        "{error:?}"
    );
    assert!(error.hint().unwrap().contains("strip-prefix"));
    assert!(!dest.exists());
    assert_eq!(
        folder_names(&folder.path().join("work")),
        Vec::<String>::new()
    );
}

/// Extracting `items` must fail naming `entry`, create no `dest`, leave no temp folder and
/// write nothing outside.
fn assert_refused(items: &[Item], entry: &str) {
    let outer = tempfile::tempdir().unwrap();
    // dest lives two levels down so `../../outside` would land in `outer`.
    let parent = outer.path().join("a").join("b");
    fs::create_dir_all(&parent).unwrap();
    let archive_path = outer.path().join("evil.tar.gz");
    fs::write(&archive_path, archive::tar_gz(items)).unwrap();
    let dest = parent.join("tree");

    let error = extract_archive(&archive_path, &dest, None, &SilentReporter).unwrap_err();

    match &error {
        SourceError::UnsafeEntry { entry: named, .. } => assert_eq!(named, entry),
        other => panic!("expected UnsafeEntry for {entry}, got {other:?}"),
    }
    assert!(error.to_string().contains(entry), "{error}");
    assert!(!dest.exists(), "dest must not be created");
    assert_eq!(
        folder_names(&parent),
        Vec::<String>::new(),
        "no temp folder left"
    );
    assert_eq!(
        folder_names(outer.path()),
        vec!["a", "evil.tar.gz"],
        "nothing written outside"
    );
    assert!(!Path::new("/evil-wlmake-test").exists());
}

#[test]
fn refuses_parent_directory_entries() {
    assert_refused(&[file("ok.txt", "fine"), file("../evil", "x")], "../evil");
    assert_refused(&[file("sub/../../evil", "x")], "sub/../../evil");
}

#[test]
fn refuses_absolute_entries() {
    assert_refused(&[file("/evil-wlmake-test", "x")], "/evil-wlmake-test");
}

#[test]
fn refuses_symlinks_leaving_the_tree() {
    assert_refused(
        &[dir("sub/"), symlink("sub/link", "../../outside")],
        "sub/link",
    );
    assert_refused(&[symlink("abs", "/etc/passwd")], "abs");
}

#[test]
fn refuses_hardlinks_to_outside_files() {
    assert_refused(&[hardlink("link", "../outside")], "link");
    assert_refused(&[hardlink("link", "/etc/passwd")], "link");
    // A hard link to a file that was never extracted.
    assert_refused(&[hardlink("link", "missing")], "link");
}

#[test]
fn refuses_writing_through_a_symlink_chain_to_outside() {
    // Each link looks harmless on its own (`d/l` -> the root, `l2` -> `d/l/..` = `d`
    // lexically), but `l2` really resolves to the root's parent: the write through it is
    // refused.
    assert_refused(
        &[
            dir("d/"),
            symlink("d/l", ".."),
            symlink("l2", "d/l/.."),
            file("l2/evil", "x"),
        ],
        "l2/evil",
    );
}

#[test]
fn failed_extraction_leaves_an_existing_dest_untouched() {
    let folder = tempfile::tempdir().unwrap();
    let dest = folder.path().join("tree");
    fs::create_dir(&dest).unwrap();
    fs::write(dest.join("old.txt"), "old").unwrap();
    let archive_path = folder.path().join("evil.tar.gz");
    fs::write(
        &archive_path,
        archive::tar_gz(&[file("new.txt", "new"), file("../evil", "x")]),
    )
    .unwrap();

    extract_archive(&archive_path, &dest, None, &SilentReporter).unwrap_err();

    assert_eq!(folder_names(&dest), vec!["old.txt"]);
    assert_eq!(folder_names(folder.path()), vec!["evil.tar.gz", "tree"]);

    // A good archive replaces it completely.
    let good = folder.path().join("good.tar.gz");
    fs::write(&good, archive::tar_gz(&[file("new.txt", "new")])).unwrap();
    extract_archive(&good, &dest, None, &SilentReporter).unwrap();
    assert_eq!(folder_names(&dest), vec!["new.txt"]);
    assert_eq!(
        folder_names(folder.path()),
        vec!["evil.tar.gz", "good.tar.gz", "tree"]
    );
}

#[test]
fn corrupt_and_unknown_archives_are_errors() {
    let (_folder, dest, result) = extract_to_new(b"not gzip at all", "pkg.tar.gz", None);
    assert!(
        matches!(result, Err(SourceError::ArchiveRead { .. })),
        "{result:?}"
    );
    assert!(!dest.exists());

    let (_folder, _dest, result) = extract_to_new(b"PK", "pkg.zip", None);
    assert!(
        matches!(result, Err(SourceError::UnsupportedArchive { .. })),
        "{result:?}"
    );
}

#[test]
fn prepare_archive_makes_a_fresh_tree() {
    let bytes = sample_archive();
    let server = TestServer::start([("/pkg.tar.gz", Route::Bytes(bytes.clone()))]);
    let (folder, cache) = new_cache();
    let source = spec(archive_source(vec![server.url("/pkg.tar.gz")], &bytes));
    let dest = folder.path().join("work/pkg");
    fs::create_dir_all(&dest).unwrap();
    fs::write(dest.join("stale.o"), "old build").unwrap();

    let prepared = prepare(&source, &cache, &offline(), &dest, &SilentReporter).unwrap();

    assert_eq!(prepared.tree, dest);
    assert_eq!(prepared.fetched.provider, server.url("/pkg.tar.gz"));
    assert_eq!(folder_names(&dest), vec!["README", "bin"]);
    assert_eq!(fs::read_to_string(dest.join("README")).unwrap(), "hello\n");
}

// ---------------------------------------------------------------------------------------
// git

struct GitFixture {
    _folder: TempDir,
    url: String,
    first: String,
    second: String,
}

/// A repository with two commits: `v1.0` (annotated) and `light` (lightweight) at the
/// first, `v2.0` at the second.
fn git_fixture() -> GitFixture {
    let folder = tempfile::tempdir().unwrap();
    let repo_dir = folder.path().join("upstream");
    let repo = TestRepository::init(&repo_dir);
    let first = repo.commit(
        "first",
        &[
            ("README", "version 1\n", false),
            ("scripts/build.sh", "#!/bin/sh\n", true),
        ],
    );
    repo.annotated_tag("v1.0", first);
    repo.lightweight_tag("light", first);
    let second = repo.commit("second", &[("README", "version 2\n", false)]);
    repo.annotated_tag("v2.0", second);
    GitFixture {
        url: format!("file://{}", repo_dir.display()),
        _folder: folder,
        first: first.to_string(),
        second: second.to_string(),
    }
}

#[test]
fn git_tag_at_the_pinned_commit() {
    let fixture = git_fixture();
    let (folder, cache) = new_cache();
    let source = SourceSpec::Git(GitSource {
        url: fixture.url.clone(),
        tag: "v1.0".to_string(),
        commit: fixture.first.clone(),
    });
    let dest = folder.path().join("work/git");

    let prepared = prepare(&source, &cache, &offline(), &dest, &SilentReporter).unwrap();

    assert_eq!(prepared.fetched.provider, format!("git {}", fixture.url));
    assert!(
        prepared
            .fetched
            .path
            .starts_with(cache.root().join("git-v1"))
    );
    assert_eq!(
        folder_names(&dest),
        vec!["README", "scripts"],
        "no .git in the tree"
    );
    assert_eq!(
        fs::read_to_string(dest.join("README")).unwrap(),
        "version 1\n"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(dest.join("scripts/build.sh"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o111, 0o111);
    }

    // Second time: served from the cached repository.
    let again = fetch(&source, &cache, &offline(), &SilentReporter).unwrap();
    assert_eq!(again.provider, "cache");
}

#[test]
fn git_lightweight_tag_and_plain_path_url() {
    let fixture = git_fixture();
    let (folder, cache) = new_cache();
    let plain_path = fixture.url.trim_start_matches("file://").to_string();
    let source = SourceSpec::Git(GitSource {
        url: plain_path,
        tag: "light".to_string(),
        commit: fixture.first.clone(),
    });
    let dest = folder.path().join("git");

    prepare(&source, &cache, &offline(), &dest, &SilentReporter).unwrap();

    assert_eq!(
        fs::read_to_string(dest.join("README")).unwrap(),
        "version 1\n"
    );
}

#[test]
fn git_tag_at_another_commit_is_refused() {
    let fixture = git_fixture();
    let (folder, cache) = new_cache();
    let source = SourceSpec::Git(GitSource {
        url: fixture.url.clone(),
        tag: "v2.0".to_string(),
        commit: fixture.first.clone(),
    });
    let dest = folder.path().join("git");

    let error = prepare(&source, &cache, &offline(), &dest, &SilentReporter).unwrap_err();

    match &error {
        SourceError::GitTagMismatch {
            tag,
            expected,
            actual,
            ..
        } => {
            assert_eq!(tag, "v2.0");
            assert_eq!(expected, &fixture.first);
            assert_eq!(actual, &fixture.second);
        }
        other => panic!("expected GitTagMismatch, got {other:?}"),
    }
    let message = error.to_string();
    assert!(
        message.contains("v2.0")
            && message.contains(&fixture.first)
            && message.contains(&fixture.second)
    );
    assert!(error.hint().is_some());
    assert!(!dest.exists());
}

#[test]
fn git_missing_tag_is_reported() {
    let fixture = git_fixture();
    let (_folder, cache) = new_cache();
    let source = SourceSpec::Git(GitSource {
        url: fixture.url.clone(),
        tag: "v9.9".to_string(),
        commit: fixture.first.clone(),
    });

    let error = fetch(&source, &cache, &offline(), &SilentReporter).unwrap_err();

    assert!(
        matches!(&error, SourceError::GitTagNotFound { tag, .. } if tag == "v9.9"),
        "{error:?}"
    );
}

// ---------------------------------------------------------------------------------------
// path sources

#[test]
fn path_source_is_copied_fresh() {
    let folder = tempfile::tempdir().unwrap();
    let source_dir = folder.path().join("compat");
    fs::create_dir_all(source_dir.join("include")).unwrap();
    fs::write(source_dir.join("compat.c"), "int x;\n").unwrap();
    fs::write(source_dir.join("include/compat.h"), "extern int x;\n").unwrap();
    let dest = folder.path().join("work/compat");
    fs::create_dir_all(&dest).unwrap();
    fs::write(dest.join("stale"), "").unwrap();
    let (_cache_folder, cache) = new_cache();
    let spec = SourceSpec::Path(PathSource {
        path: "compat".to_string(),
        dir: source_dir.clone(),
    });

    let prepared = prepare(&spec, &cache, &offline(), &dest, &SilentReporter).unwrap();

    assert_eq!(
        prepared.fetched.provider,
        format!("path {}", source_dir.display())
    );
    assert_eq!(folder_names(&dest), vec!["compat.c", "include"]);
    assert_eq!(
        fs::read_to_string(dest.join("include/compat.h")).unwrap(),
        "extern int x;\n"
    );
}

#[test]
fn missing_path_source_is_an_error() {
    let folder = tempfile::tempdir().unwrap();
    let (_cache_folder, cache) = new_cache();
    let missing = folder.path().join("nope");
    let spec = SourceSpec::Path(PathSource {
        path: "nope".to_string(),
        dir: missing.clone(),
    });

    let error = fetch(&spec, &cache, &offline(), &SilentReporter).unwrap_err();

    assert!(matches!(&error, SourceError::PathMissing { path } if *path == missing));
    assert!(error.hint().is_some());
}

// ---------------------------------------------------------------------------------------
// options

#[test]
fn cache_layout_is_content_addressed() {
    let (_folder, cache) = new_cache();
    let sha = Sha256::parse(&sha256_hex(b"x")).unwrap();
    assert_eq!(
        cache.archive_path(&sha, "a.tar.gz"),
        cache
            .root()
            .join("sources-v1")
            .join(sha.as_str())
            .join("a.tar.gz")
    );
    assert!(cache.root().join("CACHEDIR.TAG").is_file());
}

#[test]
fn mirror_parsing() {
    let folder = tempfile::tempdir().unwrap();
    let value = format!(
        "https://m.example/a,{} file:///srv/x",
        folder.path().display()
    );
    assert_eq!(
        source::parse_mirrors(&value),
        vec![
            Mirror::Url("https://m.example/a".to_string()),
            Mirror::Dir(folder.path().to_path_buf()),
            Mirror::Dir(PathBuf::from("/srv/x")),
        ]
    );
}
