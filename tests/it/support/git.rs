//! Real git repositories made with git2 in a temp folder.

use std::path::Path;

use git2::{Oid, Repository, Signature};

/// A non-bare repository with a helper to commit files.
pub struct TestRepository {
    pub repository: Repository,
}

impl TestRepository {
    pub fn init(dir: &Path) -> TestRepository {
        TestRepository {
            repository: Repository::init(dir).expect("git init"),
        }
    }

    /// Writes `files` (path, contents, executable) into the work tree, stages everything
    /// and commits on HEAD. Returns the commit id.
    pub fn commit(&self, message: &str, files: &[(&str, &str, bool)]) -> Oid {
        let workdir = self.repository.workdir().expect("work tree").to_path_buf();
        let mut index = self.repository.index().unwrap();
        for (path, contents, executable) in files {
            let full = workdir.join(path);
            std::fs::create_dir_all(full.parent().unwrap()).unwrap();
            std::fs::write(&full, contents).unwrap();
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                let mode = if *executable { 0o755 } else { 0o644 };
                std::fs::set_permissions(&full, std::fs::Permissions::from_mode(mode)).unwrap();
            }
            index.add_path(Path::new(path)).unwrap();
        }
        index.write().unwrap();
        let tree_id = index.write_tree().unwrap();
        let tree = self.repository.find_tree(tree_id).unwrap();
        let signature = Signature::now("wlmake tests", "tests@wlmake.invalid").unwrap();
        let parent = self
            .repository
            .head()
            .ok()
            .and_then(|head| head.peel_to_commit().ok());
        let parents: Vec<&git2::Commit<'_>> = parent.iter().collect();
        self.repository
            .commit(
                Some("HEAD"),
                &signature,
                &signature,
                message,
                &tree,
                &parents,
            )
            .unwrap()
    }

    /// An annotated tag at `commit`.
    pub fn annotated_tag(&self, name: &str, commit: Oid) {
        let object = self.repository.find_object(commit, None).unwrap();
        let signature = Signature::now("wlmake tests", "tests@wlmake.invalid").unwrap();
        self.repository
            .tag(name, &object, &signature, name, false)
            .unwrap();
    }

    /// A lightweight tag at `commit`.
    pub fn lightweight_tag(&self, name: &str, commit: Oid) {
        let object = self.repository.find_object(commit, None).unwrap();
        self.repository
            .tag_lightweight(name, &object, false)
            .unwrap();
    }
}
