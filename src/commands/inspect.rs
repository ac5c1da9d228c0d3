//! `wlmake inspect FILE.wasm [--runtime X] [--json]`: size, imports, exports and the
//! import ABI check's verdict for any wasm file.

use anyhow::Result;

use super::Session;
use crate::cli::InspectArgs;
use crate::runtime::abi::{self, ModuleInfo, Table};

pub fn inspect(session: &Session, args: &InspectArgs) -> Result<i32> {
    let module = abi::read_module_file(&args.file)?;
    let table = match &args.runtime {
        Some(runtime) => Some(abi::load_table(session.repository()?.root(), runtime)?),
        None => None,
    };
    let mismatches = table
        .as_ref()
        .map(|table| abi::check(&module, table))
        .unwrap_or_default();
    if args.json {
        let check = table.as_ref().map(|table| {
            serde_json::json!({
                "runtime": table.runtime,
                "versions": table.versions,
                "table": table.stem(),
                "ok": mismatches.is_empty(),
                "mismatches": mismatches,
            })
        });
        let json = serde_json::json!({
            "file": args.file,
            "size": module.size,
            "imports": module.imports,
            "exports": module.exports,
            "check": check,
        });
        println!("{}", serde_json::to_string_pretty(&json)?);
    } else {
        print_module(&args.file.display().to_string(), &module);
        if let Some(table) = &table {
            println!("{}", verdict_line(table, &module, mismatches.len()));
        }
    }
    if let Some(table) = &table {
        abi::verdict(&args.file, table, mismatches)?;
        // The features after the imports: the validator's message names the first
        // instruction of a proposal the runtime lacks.
        abi::check_features_file(&args.file, table)?;
    }
    Ok(0)
}

fn print_module(file: &str, module: &ModuleInfo) {
    println!("file:     {file}");
    println!("size:     {} bytes", module.size);
    println!("imports:  {}", module.imports.len());
    let names: Vec<String> = module
        .imports
        .iter()
        .map(|i| format!("{}.{}", i.module, i.name))
        .collect();
    let width = names.iter().map(String::len).max().unwrap_or(0);
    for (import, name) in module.imports.iter().zip(&names) {
        match &import.signature {
            Some(signature) => println!("  {name:width$}  {signature}"),
            None => println!("  {name:width$}  {}", import.kind),
        }
    }
    println!("exports:  {}", module.exports.len());
    let width = module
        .exports
        .iter()
        .map(|e| e.name.len())
        .max()
        .unwrap_or(0);
    for export in &module.exports {
        println!("  {:width$}  {}", export.name, export.kind);
    }
}

fn verdict_line(table: &Table, module: &ModuleInfo, mismatches: usize) -> String {
    let file = format!("{}/{}.toml", abi::TABLES_DIR, table.stem());
    let against = format!("{} {} ({file})", table.runtime, table.versions);
    if mismatches == 0 {
        format!(
            "check:    OK, {against} provides all {} import(s)",
            module.imports.len()
        )
    } else {
        format!(
            "check:    FAILED, {mismatches} of {} import(s) do not fit {against}",
            module.imports.len()
        )
    }
}
