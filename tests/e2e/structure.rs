//! The shape of the code, kept as the structure work left it: files that read in one
//! sitting, short functions, domain modules that know no adapter, and no import circles
//! between the app's modules.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

const MAX_FILE_LINES: usize = 500;
const MAX_FUNCTION_LINES: usize = 80;

/// Functions allowed to be long: tables that read best whole.
const LONG_BY_NATURE: [&str; 1] = ["router"];

/// The domain: what the app knows and decides, whatever serves or stores it.
const DOMAIN: [&str; 16] = [
    "app/src/catalog",
    "app/src/proof",
    "app/src/purchases",
    "app/src/recommend",
    "app/src/search",
    "app/src/shopify",
    "app/src/stores",
    "app/src/clock.rs",
    "app/src/key_cache.rs",
    "app/src/domain.rs",
    "app/src/error.rs",
    "app/src/events.rs",
    "app/src/identity.rs",
    "app/src/eval",
    "retriever/src/recommend",
    "retriever/src/search",
];

/// Adapters the domain must not name: the HTTP server, the database (sqlx, and the store
/// built on it: the domain holds the traits of `stores`), the vector engines and the model
/// runtime.
const ADAPTERS: [&str; 8] = [
    "axum",
    "sqlx",
    "storage",
    "qdrant_client",
    "qdrant_edge",
    "candle_core",
    "candle_nn",
    "candle_transformers",
];

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return files;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
    files.sort();
    files
}

fn sources() -> Vec<(String, String)> {
    let found: Vec<(String, String)> = ["app/src", "retriever/src", "embedder/src"]
        .iter()
        .flat_map(|dir| rust_files(&root().join(dir)))
        .map(|path| {
            let name = path
                .strip_prefix(root())
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            (name, std::fs::read_to_string(&path).unwrap())
        })
        .collect();
    // Guards the checks against reading nothing and passing.
    assert!(found.len() > 80, "only {} source files found", found.len());
    found
}

/// The file without its test module (by convention the file's last item).
fn production_part(text: &str) -> &str {
    text.find("#[cfg(test)]\nmod tests")
        .map_or(text, |at| &text[..at])
}

#[test]
fn every_source_file_reads_in_one_sitting() {
    let long: Vec<String> = sources()
        .iter()
        .filter(|(_, text)| text.lines().count() > MAX_FILE_LINES)
        .map(|(name, text)| format!("{name}: {} lines", text.lines().count()))
        .collect();
    assert!(long.is_empty(), "over {MAX_FILE_LINES} lines: {long:#?}");
}

/// Each `fn` item's name and length in lines, found by its braces (strings and comments
/// holding braces are rare enough in this code base not to matter).
fn function_lengths(text: &str) -> Vec<(String, usize)> {
    let lines: Vec<&str> = text.lines().collect();
    let mut found = Vec::new();
    for (start, line) in lines.iter().enumerate() {
        let trimmed = line.trim_start();
        let Some(at) = trimmed.find("fn ") else {
            continue;
        };
        let mut head = trimmed[..at].trim();
        if let Some(scoped) = head.strip_prefix("pub(") {
            head = scoped.split_once(')').map_or("?", |(_, rest)| rest);
        }
        let is_item = head
            .split_whitespace()
            .all(|word| matches!(word, "pub" | "async" | "const" | "unsafe"));
        if !is_item || trimmed.starts_with("//") {
            continue;
        }
        let name: String = trimmed[at + 3..]
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        let mut depth = 0i32;
        let mut opened = false;
        for (offset, body_line) in lines[start..].iter().enumerate() {
            for c in body_line.chars() {
                match c {
                    '{' => {
                        depth += 1;
                        opened = true;
                    }
                    '}' => depth -= 1,
                    ';' if !opened && depth == 0 => break,
                    _ => {}
                }
            }
            if !opened && body_line.trim_end().ends_with(';') {
                break; // a declaration without a body
            }
            if opened && depth <= 0 {
                found.push((name.clone(), offset + 1));
                break;
            }
        }
    }
    found
}

#[test]
fn production_functions_are_short() {
    let mut long = Vec::new();
    for (name, text) in sources() {
        for (function, lines) in function_lengths(production_part(&text)) {
            if lines > MAX_FUNCTION_LINES && !LONG_BY_NATURE.contains(&function.as_str()) {
                long.push(format!("{name}: {function} ({lines} lines)"));
            }
        }
    }
    assert!(
        long.is_empty(),
        "over {MAX_FUNCTION_LINES} lines: {long:#?}"
    );
}

#[test]
fn the_domain_names_no_adapter() {
    let mut named = Vec::new();
    for (name, text) in sources() {
        if !DOMAIN
            .iter()
            .any(|d| name == *d || name.starts_with(&format!("{d}/")))
        {
            continue;
        }
        for (number, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or_default();
            for adapter in ADAPTERS {
                let used = code.match_indices(adapter).any(|(at, _)| {
                    let before = code[..at].chars().next_back();
                    let after = &code[at + adapter.len()..];
                    !before.is_some_and(|c| c.is_alphanumeric() || c == '_')
                        && (after.starts_with("::") || after.starts_with(';'))
                });
                if used {
                    named.push(format!("{name}:{}: {}", number + 1, line.trim()));
                }
            }
        }
    }
    assert!(named.is_empty(), "the domain names an adapter: {named:#?}");
}

/// The app's module path of a source file: `app/src/catalog/for_you.rs` is
/// `catalog::for_you`, a `mod.rs` is its folder's module.
fn module_of(name: &str) -> Option<String> {
    let inner = name.strip_prefix("app/src/")?.strip_suffix(".rs")?;
    let inner = inner.strip_suffix("/mod").unwrap_or(inner);
    (inner != "lib" && inner != "main").then(|| inner.replace('/', "::"))
}

/// The modules a file names through `crate::` or `super::` paths, grouped imports
/// included, each resolved to the longest module path it starts with.
fn imports(module: &str, text: &str, modules: &BTreeSet<String>) -> BTreeSet<String> {
    let path: Vec<&str> = module.split("::").collect();
    let mut paths = Vec::new();
    // `super` is the module's parent, whether the module is a file or a folder's `mod.rs`.
    for (prefix, base) in [
        ("crate::", Vec::new()),
        ("super::", path[..path.len() - 1].to_vec()),
    ] {
        for (at, _) in text.match_indices(prefix) {
            if text[..at]
                .chars()
                .next_back()
                .is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':')
            {
                continue;
            }
            let rest = &text[at + prefix.len()..];
            let mut heads = Vec::new();
            if let Some(group) = rest.strip_prefix('{') {
                let inside = group.split('}').next().unwrap_or_default();
                heads.extend(inside.split(',').map(|item| item.trim().to_owned()));
            } else {
                heads.push(rest.to_owned());
            }
            for head in heads {
                let segments: Vec<String> = head
                    .split("::")
                    .map(|s| {
                        s.chars()
                            .take_while(|c| c.is_alphanumeric() || *c == '_')
                            .collect::<String>()
                    })
                    .take_while(|s| !s.is_empty())
                    .collect();
                let mut full: Vec<String> = base.iter().map(|s| s.to_string()).collect();
                full.extend(segments);
                paths.push(full);
            }
        }
    }
    let mut found = BTreeSet::new();
    for path in paths {
        for len in (1..=path.len()).rev() {
            let candidate = path[..len].join("::");
            if modules.contains(&candidate) {
                found.insert(candidate);
                break;
            }
        }
    }
    found
}

fn related(a: &str, b: &str) -> bool {
    a == b || a.starts_with(&format!("{b}::")) || b.starts_with(&format!("{a}::"))
}

#[test]
fn no_import_circles_between_the_apps_modules() {
    let files: Vec<(String, String)> = sources()
        .into_iter()
        .filter_map(|(name, text)| module_of(&name).map(|m| (m, text)))
        .collect();
    let modules: BTreeSet<String> = files.iter().map(|(m, _)| m.clone()).collect();
    // A module naming its own parent or child is nesting, not a circle.
    let graph: BTreeMap<String, BTreeSet<String>> = files
        .iter()
        .map(|(module, text)| {
            let targets = imports(module, production_part(text), &modules)
                .into_iter()
                .filter(|target| !related(module, target))
                .collect();
            (module.clone(), targets)
        })
        .collect();
    let circles = strongly_connected(&graph);
    assert!(circles.is_empty(), "import circles: {circles:#?}");
}

/// The graph's strongly connected parts of more than one module (Tarjan).
fn strongly_connected(graph: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    struct Walk<'g> {
        graph: &'g BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<&'g str, usize>,
        low: BTreeMap<&'g str, usize>,
        stack: Vec<&'g str>,
        on_stack: BTreeSet<&'g str>,
        found: Vec<Vec<String>>,
    }
    impl<'g> Walk<'g> {
        fn visit(&mut self, node: &'g str) {
            let n = self.index.len();
            self.index.insert(node, n);
            self.low.insert(node, n);
            self.stack.push(node);
            self.on_stack.insert(node);
            for next in self.graph.get(node).into_iter().flatten() {
                let next = next.as_str();
                if !self.index.contains_key(next) {
                    self.visit(next);
                    let low = self.low[node].min(self.low[next]);
                    self.low.insert(node, low);
                } else if self.on_stack.contains(next) {
                    let low = self.low[node].min(self.index[next]);
                    self.low.insert(node, low);
                }
            }
            if self.low[node] == self.index[node] {
                let mut part = Vec::new();
                while let Some(top) = self.stack.pop() {
                    self.on_stack.remove(top);
                    part.push(top.to_owned());
                    if top == node {
                        break;
                    }
                }
                if part.len() > 1 {
                    part.sort();
                    self.found.push(part);
                }
            }
        }
    }
    let mut walk = Walk {
        graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        found: Vec::new(),
    };
    for node in graph.keys() {
        if !walk.index.contains_key(node.as_str()) {
            walk.visit(node);
        }
    }
    walk.found
}

#[test]
fn the_shape_checks_see_what_they_check() {
    // A circle, a long function and an adapter import are found when present.
    let mut graph = BTreeMap::new();
    graph.insert("a".to_owned(), BTreeSet::from(["b".to_owned()]));
    graph.insert("b".to_owned(), BTreeSet::from(["a".to_owned()]));
    graph.insert("c".to_owned(), BTreeSet::from(["a".to_owned()]));
    assert_eq!(strongly_connected(&graph), vec![vec!["a", "b"]]);
    let long = format!("pub async fn long() {{\n{}}}\n", "    step();\n".repeat(90));
    assert_eq!(function_lengths(&long), vec![("long".to_owned(), 92)]);
    let modules: BTreeSet<String> = ["catalog", "catalog::service", "http", "http::routes"]
        .map(String::from)
        .into();
    let text = "use crate::catalog::service::CatalogService;\nuse super::{routes::x, y};";
    assert_eq!(
        imports("http::events", text, &modules),
        BTreeSet::from([
            "catalog::service".to_owned(),
            "http::routes".to_owned(),
            "http".to_owned()
        ])
    );
}
