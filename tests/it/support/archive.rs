//! Real tar archives built in memory, including malicious ones.
//!
//! Headers are written byte by byte (the `name` and `linkname` fields of the old header
//! layout) so paths the tar crate's builder refuses (`../evil`, `/abs`) can be made.

use std::io::Write;

/// One archive entry.
#[derive(Debug, Clone)]
pub enum Item {
    File(String, Vec<u8>),
    Executable(String, Vec<u8>),
    Dir(String),
    Symlink(String, String),
    Hardlink(String, String),
}

pub fn file(path: &str, contents: &str) -> Item {
    Item::File(path.to_string(), contents.as_bytes().to_vec())
}

pub fn executable(path: &str, contents: &str) -> Item {
    Item::Executable(path.to_string(), contents.as_bytes().to_vec())
}

pub fn dir(path: &str) -> Item {
    Item::Dir(path.to_string())
}

pub fn symlink(path: &str, target: &str) -> Item {
    Item::Symlink(path.to_string(), target.to_string())
}

pub fn hardlink(path: &str, target: &str) -> Item {
    Item::Hardlink(path.to_string(), target.to_string())
}

/// An uncompressed tar archive of `items`, in order.
pub fn tar(items: &[Item]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for item in items {
        let mut header = tar::Header::new_gnu();
        header.set_mtime(1_700_000_000);
        header.set_uid(0);
        header.set_gid(0);
        let (path, data, kind, mode, link): (&str, &[u8], tar::EntryType, u32, Option<&str>) =
            match item {
                Item::File(path, data) => (path, data, tar::EntryType::Regular, 0o644, None),
                Item::Executable(path, data) => (path, data, tar::EntryType::Regular, 0o755, None),
                Item::Dir(path) => (path, &[], tar::EntryType::Directory, 0o755, None),
                Item::Symlink(path, target) => {
                    (path, &[], tar::EntryType::Symlink, 0o777, Some(target))
                }
                Item::Hardlink(path, target) => {
                    (path, &[], tar::EntryType::Link, 0o644, Some(target))
                }
            };
        set_raw(&mut header.as_old_mut().name, path);
        if let Some(link) = link {
            set_raw(&mut header.as_old_mut().linkname, link);
        }
        header.set_entry_type(kind);
        header.set_mode(mode);
        header.set_size(data.len() as u64);
        header.set_cksum();
        builder
            .append(&header, data)
            .expect("append to in-memory tar");
    }
    builder.into_inner().expect("finish in-memory tar")
}

fn set_raw(field: &mut [u8; 100], value: &str) {
    assert!(value.len() < field.len(), "test paths stay under 100 bytes");
    field.fill(0);
    field[..value.len()].copy_from_slice(value.as_bytes());
}

pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

pub fn xz(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = xz2::write::XzEncoder::new(Vec::new(), 6);
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

pub fn bzip2(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

/// A `.tar.gz` of `items`.
pub fn tar_gz(items: &[Item]) -> Vec<u8> {
    gzip(&tar(items))
}
