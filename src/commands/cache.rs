//! `wlmake cache ls|gc|rm`: the store of finished builds (logic in `crate::store`).

use std::time::SystemTime;

use anyhow::Result;

use super::Session;
use crate::cli::{CacheArgs, CacheCommand};
use crate::store::units::{format_age, format_size};
use crate::store::{Store, Summary};

pub fn cache(session: &Session, args: &CacheArgs) -> Result<()> {
    let store = Store::new(session.cache()?.root());
    match &args.command {
        CacheCommand::Ls => list(&store),
        CacheCommand::Gc(gc) => {
            let removed = store.gc(gc.max_size, gc.max_age, SystemTime::now())?;
            report_removed(session, &removed);
            let left = store.list()?;
            let size: u64 = left.iter().map(|s| s.size).sum();
            session.reporter.line(&format!(
                "{} entries left, {}",
                left.len(),
                format_size(size)
            ));
            Ok(())
        }
        CacheCommand::Rm(rm) => {
            let removed = match &rm.prefix {
                Some(prefix) if !rm.all => vec![store.remove_prefix(prefix)?],
                _ => store.remove_all()?,
            };
            report_removed(session, &removed);
            Ok(())
        }
    }
}

fn list(store: &Store) -> Result<()> {
    let entries = store.list()?;
    let now = SystemTime::now();
    let age = |time: SystemTime| format_age(now.duration_since(time).unwrap_or_default());
    println!(
        "{:<28} {:<9} {:<16} {:>10} {:>5} {:>8}",
        "RECIPE", "RUNTIME", "IDENTITY", "SIZE", "AGE", "LAST USE"
    );
    for entry in &entries {
        let recipe = if entry.damaged {
            "(damaged)"
        } else {
            &entry.recipe
        };
        println!(
            "{:<28} {:<9} {:<16} {:>10} {:>5} {:>8}",
            recipe,
            entry.runtime,
            &entry.identity[..16],
            format_size(entry.size),
            age(entry.created),
            age(entry.last_use)
        );
    }
    let total: u64 = entries.iter().map(|e| e.size).sum();
    println!(
        "{} entries, {} in {}",
        entries.len(),
        format_size(total),
        store.root().display()
    );
    Ok(())
}

fn report_removed(session: &Session, removed: &[Summary]) {
    for entry in removed {
        session.reporter.line(&format!(
            "removed {} {} {} ({})",
            entry.recipe,
            entry.runtime,
            &entry.identity[..16],
            format_size(entry.size)
        ));
    }
    let size: u64 = removed.iter().map(|s| s.size).sum();
    session.reporter.line(&format!(
        "removed {} entries, {}",
        removed.len(),
        format_size(size)
    ));
}
