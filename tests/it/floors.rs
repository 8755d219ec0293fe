//! The house's floors, checked from the sources: the crates enforce most of them (the
//! foundation, rendering and signing cannot name the domain, the domain cannot name the
//! web layer or axum); what a crate boundary cannot see is checked here. Inside the
//! domain each module uses only the modules below it, so the workflow never imports
//! distribution or verification (it calls them through `DistributionPlanner`); no page
//! imports another page; no request handler is over 40 lines; no source file is over
//! 800 lines.

use std::{
    collections::BTreeSet,
    fs,
    path::{Path, PathBuf},
};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// The domain's modules from the bottom up: each may use those before it.
const DOMAIN_FLOORS: [&str; 13] = [
    "numbering",
    "departments",
    "accounts",
    "keys",
    "incoming",
    "beneficiaries",
    "workflow",
    "distribution",
    "verification",
    "jobs",
    "cases",
    "notifications",
    "demo",
];

const LONGEST_FILE: usize = 800;

/// A request handler parses, calls one use case and renders: this many lines at most.
const LONGEST_HANDLER: usize = 40;

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The first segment of every `crate::…` path in the source, including each name of a
/// `use crate::{a, b::c}` group.
fn crate_modules(source: &str) -> BTreeSet<String> {
    names_after(source, "crate::")
}

/// The first segment of every path that starts with `prefix`, grouped or not.
fn names_after(source: &str, prefix: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let mut rest = source;
    while let Some(at) = rest.find(prefix) {
        let after = &rest[at + prefix.len()..];
        // `super::super::x` names something a level further up, not a name of this one.
        if prefix.starts_with("super::") && after.starts_with("super::") {
            rest = after.trim_start_matches("super::");
            continue;
        }
        if let Some(group) = after.strip_prefix('{') {
            let mut depth = 0;
            let mut name = String::new();
            for c in group.chars() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        found.insert(first_segment(&name));
                        name.clear();
                        continue;
                    }
                    _ => {}
                }
                if depth == 0 {
                    name.push(c);
                }
            }
            found.insert(first_segment(&name));
        } else {
            found.insert(first_segment(after));
        }
        rest = after;
    }
    found.remove("");
    found
}

fn first_segment(path: &str) -> String {
    path.trim().chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect()
}

/// The domain module a file of the domain crate belongs to (`workflow` for
/// `workflow/decisions.rs`, `demo` for `demo.rs`).
fn domain_module(file: &Path, src: &Path) -> Option<String> {
    let relative = file.strip_prefix(src).ok()?;
    let first = relative.components().next()?.as_os_str().to_str()?;
    Some(first.trim_end_matches(".rs").to_string())
}

#[test]
fn each_domain_module_uses_only_the_modules_below_it() {
    let src = Path::new(ROOT).join("crates/naskah-domain/src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut upward = Vec::new();
    for file in &files {
        let Some(module) = domain_module(file, &src) else { continue };
        let Some(floor) = DOMAIN_FLOORS.iter().position(|m| *m == module) else {
            assert_eq!(module, "lib", "{} belongs to no floor: add it to DOMAIN_FLOORS", file.display());
            continue;
        };
        let source = fs::read_to_string(file).unwrap();
        // Unit tests may seed the demo department; only what ships counts.
        let shipped = source.split("#[cfg(test)]").next().unwrap_or_default();
        for used in crate_modules(shipped) {
            if let Some(used_floor) = DOMAIN_FLOORS.iter().position(|m| *m == used)
                && used_floor > floor
            {
                upward.push(format!("{} uses crate::{used}", file.strip_prefix(ROOT).unwrap().display()));
            }
        }
    }
    assert!(upward.is_empty(), "imports that run up a floor:\n{}", upward.join("\n"));
}

#[test]
fn no_page_imports_another_page() {
    let pages = Path::new(ROOT).join("crates/naskah-web/src/pages");
    let areas: Vec<String> = fs::read_dir(&pages)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter_map(|p| p.file_stem().and_then(|s| s.to_str()).map(str::to_string))
        .filter(|name| name != "mod" && name != "common")
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut files = Vec::new();
    rust_files(&pages, &mut files);
    let mut crossings = Vec::new();
    for file in &files {
        let relative = file.strip_prefix(&pages).unwrap();
        let own = relative
            .components()
            .next()
            .unwrap()
            .as_os_str()
            .to_str()
            .unwrap()
            .trim_end_matches(".rs");
        if own == "mod" {
            // The router names every area; that is its job.
            continue;
        }
        let source = fs::read_to_string(file).unwrap();
        let depth = relative.components().count() - 1;
        let to_pages = "super::".repeat(depth + 1);
        let mut used = names_after(&source, &to_pages);
        used.extend(names_after(&source, "crate::pages::"));
        for area in areas.iter().filter(|a| a.as_str() != own && used.contains(a.as_str())) {
            crossings.push(format!("{} uses the page {area}", relative.display()));
        }
    }
    assert!(crossings.is_empty(), "pages that import another page:\n{}", crossings.join("\n"));
}

#[test]
fn no_source_file_is_over_800_lines() {
    let mut files = Vec::new();
    for dir in ["src", "crates", "tests"] {
        rust_files(&Path::new(ROOT).join(dir), &mut files);
    }
    let long: Vec<String> = files
        .iter()
        .filter_map(|f| {
            let lines = fs::read_to_string(f).unwrap().lines().count();
            (lines > LONGEST_FILE).then(|| format!("{}: {lines}", f.strip_prefix(ROOT).unwrap().display()))
        })
        .collect();
    assert!(long.is_empty(), "files over {LONGEST_FILE} lines:\n{}", long.join("\n"));
}

/// The handlers of a source: every `async fn` that takes the app's `State`, with its
/// length in lines from its first line to its closing brace.
fn handlers(source: &str) -> Vec<(String, usize)> {
    let lines: Vec<&str> = source.lines().collect();
    let mut found = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        let start = line
            .trim_start_matches("pub ")
            .trim_start_matches("pub(super) ")
            .trim_start_matches("pub(crate) ");
        if let Some(rest) = start.strip_prefix("async fn ") {
            let end = (i..lines.len()).find(|&j| lines[j] == "}").unwrap_or(lines.len() - 1);
            let signature = lines[i..=end]
                .iter()
                .take_while(|l| !l.ends_with('{'))
                .copied()
                .collect::<Vec<_>>()
                .join(" ")
                + lines[i..=end].iter().find(|l| l.ends_with('{')).copied().unwrap_or_default();
            if signature.contains("State(") {
                found.push((first_segment(rest), end - i + 1));
            }
            i = end;
        }
        i += 1;
    }
    found
}

#[test]
fn every_handler_parses_calls_a_use_case_and_renders_in_40_lines() {
    let mut files = Vec::new();
    rust_files(&Path::new(ROOT).join("crates/naskah-web/src"), &mut files);
    let mut long = Vec::new();
    for file in &files {
        let source = fs::read_to_string(file).unwrap();
        for (name, lines) in handlers(source.split("#[cfg(test)]").next().unwrap_or_default()) {
            if lines > LONGEST_HANDLER {
                long.push(format!("{}: {name} {lines}", file.strip_prefix(ROOT).unwrap().display()));
            }
        }
    }
    assert!(long.is_empty(), "handlers over {LONGEST_HANDLER} lines:\n{}", long.join("\n"));
}

#[test]
fn the_handler_check_measures_handlers_only() {
    let source = "async fn page(State(s): State<AppState>) -> Response {\n    one();\n    two();\n}\n\
                  fn helper(x: u8) -> u8 {\n    x\n}\n\
                  pub(super) async fn long(\n    State(s): State<AppState>,\n) -> Response {\n    a();\n}\n\
                  async fn no_state(db: &Db) {\n    a();\n}\n";
    assert_eq!(handlers(source), [("page".to_string(), 4), ("long".to_string(), 5)]);
}

#[test]
fn the_check_sees_grouped_and_nested_imports() {
    let pages = names_after(
        "use super::{Field, letter, settings::form_failure};\nsuper::super::x::y();",
        "super::",
    );
    assert_eq!(pages.into_iter().collect::<Vec<_>>(), ["Field", "letter", "settings"]);
    let found = crate_modules(
        "use crate::{\n    accounts::Role,\n    workflow::{self, x::{a, b}},\n    db,\n};\nlet x = crate::distribution::plan();",
    );
    assert_eq!(
        found.into_iter().collect::<Vec<_>>(),
        ["accounts", "db", "distribution", "workflow"]
    );
}
