//! Builds the map UI and embeds it in the binary.
//!
//! `map-ui/` is an npm project. When `map-ui/dist` is missing or older than
//! its sources, this script runs `npm ci` (only if `node_modules` is missing
//! or older than the lock file) and `npm run build`, then writes
//! `$OUT_DIR/ui_assets.rs`: one `include_bytes!` per file of `dist`, with its
//! content type. Without npm, or when the UI build fails, the Rust build
//! still succeeds: it warns, embeds a stale `dist` if there is one, and
//! otherwise a one-page fallback that says how to build the UI.
//!
//! `GRIDPATROL_SKIP_UI_BUILD=1` never runs npm (it embeds what is there).

use std::env;
use std::fmt::Write as _;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::thread;
use std::time::{Duration, SystemTime};

/// Inputs of the UI build; a change to any of them rebuilds `dist`.
const SOURCES: &[&str] = &[
    "src",
    "public",
    "index.html",
    "field",
    "package.json",
    "package-lock.json",
    "tsconfig.json",
    "vite.config.ts",
];

fn main() {
    let Some(root) = env::var_os("CARGO_MANIFEST_DIR").map(PathBuf::from) else {
        warn("CARGO_MANIFEST_DIR is not set; the map UI is not embedded");
        return;
    };
    let ui = root.join("map-ui");
    for s in SOURCES {
        println!("cargo::rerun-if-changed=map-ui/{s}");
    }
    println!("cargo::rerun-if-changed=map-ui/dist");
    println!("cargo::rerun-if-env-changed=GRIDPATROL_SKIP_UI_BUILD");

    let dist = ui.join("dist");
    let skip = env::var_os("GRIDPATROL_SKIP_UI_BUILD").is_some_and(|v| !v.is_empty() && v != "0");
    if !skip
        && ui.join("package.json").is_file()
        && is_stale(&ui, &dist)
        && let Err(e) = build_ui(&ui)
    {
        warn(&format!(
            "map-ui was not built ({e}); run `npm ci && npm run build` in map-ui/"
        ));
    }

    let Some(out_dir) = env::var_os("OUT_DIR").map(PathBuf::from) else {
        warn("OUT_DIR is not set; the map UI is not embedded");
        return;
    };
    let code = match embed_dist(&dist) {
        Ok(Some(code)) => code,
        Ok(None) => {
            warn("map-ui/dist is missing: the binary serves a page that says how to build the UI");
            fallback_code(&out_dir)
        }
        Err(e) => {
            warn(&format!(
                "map-ui/dist could not be read ({e}); serving the fallback page"
            ));
            fallback_code(&out_dir)
        }
    };
    if let Err(e) = fs::write(out_dir.join("ui_assets.rs"), code) {
        // Without this file the crate cannot compile; say why loudly.
        println!("cargo::error=could not write ui_assets.rs: {e}");
    }
}

fn warn(msg: &str) {
    println!("cargo::warning={msg}");
}

/// The newest modification time under `path` (a file or a folder).
fn newest(path: &Path) -> Option<SystemTime> {
    let meta = fs::metadata(path).ok()?;
    if meta.is_file() {
        return meta.modified().ok();
    }
    let mut best = meta.modified().ok();
    for entry in fs::read_dir(path).ok()?.flatten() {
        if let Some(t) = newest(&entry.path()) {
            best = Some(best.map_or(t, |b| b.max(t)));
        }
    }
    best
}

/// `dist` is stale when its index is missing or older than any source.
fn is_stale(ui: &Path, dist: &Path) -> bool {
    let Some(built) = fs::metadata(dist.join("index.html"))
        .and_then(|m| m.modified())
        .ok()
    else {
        return true;
    };
    SOURCES
        .iter()
        .filter_map(|s| newest(&ui.join(s)))
        .any(|t| t > built)
}

/// Holds `map-ui/.build.lock` so that two cargo builds sharing the work tree
/// (different target folders) never run npm in it at the same time.
struct BuildLock(PathBuf);

impl BuildLock {
    fn acquire(ui: &Path) -> io::Result<Self> {
        let path = ui.join(".build.lock");
        for _ in 0..600 {
            match fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&path)
            {
                Ok(_) => return Ok(Self(path)),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                    // A lock older than ten minutes belongs to a build that died.
                    let age = fs::metadata(&path)
                        .and_then(|m| m.modified())
                        .ok()
                        .and_then(|t| t.elapsed().ok());
                    if age.is_some_and(|a| a > Duration::from_secs(600)) {
                        let _ = fs::remove_file(&path);
                    } else {
                        thread::sleep(Duration::from_millis(500));
                    }
                }
                Err(e) => return Err(e),
            }
        }
        Err(io::Error::other(
            "map-ui/.build.lock stayed held for five minutes",
        ))
    }
}

impl Drop for BuildLock {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.0);
    }
}

fn build_ui(ui: &Path) -> Result<(), String> {
    let npm = if cfg!(windows) { "npm.cmd" } else { "npm" };
    match Command::new(npm).arg("--version").output() {
        Ok(o) if o.status.success() => {}
        _ => return Err("npm was not found on PATH".into()),
    }
    let _lock = BuildLock::acquire(ui).map_err(|e| e.to_string())?;
    // Another build may have finished the job while we waited for the lock.
    if !is_stale(ui, &ui.join("dist")) {
        return Ok(());
    }
    let installed = ui.join("node_modules").join(".package-lock.json");
    let needs_install = match (newest(&installed), newest(&ui.join("package-lock.json"))) {
        (Some(i), Some(l)) => l > i,
        _ => true,
    };
    if needs_install {
        run(Command::new(npm)
            .args(["ci", "--no-audit", "--no-fund"])
            .current_dir(ui))?;
    }
    run(Command::new(npm).args(["run", "build"]).current_dir(ui))?;
    backdate(ui);
    Ok(())
}

/// Gives the fresh `dist` the time of its newest source. Cargo reruns a
/// build script whose watched files changed after it started, and `dist` is
/// watched (for a UI built by hand); without this, every UI build would cost
/// one more compile of the crate.
fn backdate(ui: &Path) {
    let Some(t) = SOURCES.iter().filter_map(|s| newest(&ui.join(s))).max() else {
        return;
    };
    set_times(&ui.join("dist"), t);
}

/// Sets the modification time of `path` and everything under it.
fn set_times(path: &Path, t: SystemTime) {
    if let Ok(f) = fs::File::open(path) {
        let _ = f.set_modified(t);
    }
    if path.is_dir()
        && let Ok(entries) = fs::read_dir(path)
    {
        for e in entries.flatten() {
            set_times(&e.path(), t);
        }
    }
}

fn run(cmd: &mut Command) -> Result<(), String> {
    // npm's own output goes to cargo's build log (shown with -vv or on error).
    let out = cmd.output().map_err(|e| e.to_string())?;
    if out.status.success() {
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let tail: Vec<&str> = stdout.lines().chain(stderr.lines()).collect();
    let tail = tail[tail.len().saturating_sub(8)..].join(" | ");
    Err(format!("{cmd:?} failed with {}: {tail}", out.status))
}

fn content_type(path: &Path) -> &'static str {
    match path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or_default()
    {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" | "map" => "application/json",
        "webmanifest" => "application/manifest+json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        "woff" => "font/woff",
        "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) -> io::Result<()> {
    for entry in fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            collect(&path, out)?;
        } else if path.extension().is_none_or(|e| e != "map") {
            out.push(path);
        }
    }
    Ok(())
}

/// `Ok(None)` when there is no built UI to embed.
fn embed_dist(dist: &Path) -> io::Result<Option<String>> {
    if !dist.join("index.html").is_file() {
        return Ok(None);
    }
    let mut files = Vec::new();
    collect(dist, &mut files)?;
    files.sort();
    let mut code = String::from("/// Files of `map-ui/dist`, embedded at build time.\n");
    code.push_str("pub(crate) static ASSETS: &[Asset] = &[\n");
    for file in &files {
        let rel = file.strip_prefix(dist).map_err(io::Error::other)?;
        let url = format!("/{}", rel.to_string_lossy().replace('\\', "/"));
        let abs = fs::canonicalize(file)?;
        let _ = writeln!(
            code,
            "    Asset {{ path: {url:?}, content_type: {:?}, body: include_bytes!({:?}) }},",
            content_type(file),
            abs.to_string_lossy()
        );
    }
    code.push_str("];\n/// Whether the real UI was built (not the fallback page).\npub(crate) const UI_BUILT: bool = true;\n");
    Ok(Some(code))
}

const FALLBACK_PAGE: &str = r#"<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>gridpatrol</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:44em;margin:3em auto;padding:0 1em;color:#222}code{background:#eee;padding:.1em .3em}</style>
</head><body>
<h1>gridpatrol</h1>
<p>地图界面未随本程序构建。The map UI was not built into this binary.</p>
<p>Install Node.js (20.19 or later) with npm, then rebuild: <code>cargo build</code> runs
<code>npm ci &amp;&amp; npm run build</code> in <code>map-ui/</code> by itself. Or build it by hand:
<code>cd map-ui &amp;&amp; npm ci &amp;&amp; npm run build</code>, then <code>cargo build</code>.</p>
<p>The API answers meanwhile: <a href="/health">/health</a>, <a href="/api/v1/openapi.json">/api/v1/openapi.json</a>.</p>
</body></html>
"#;

fn fallback_code(out_dir: &Path) -> String {
    let page = out_dir.join("ui_fallback.html");
    if let Err(e) = fs::write(&page, FALLBACK_PAGE) {
        println!("cargo::error=could not write the fallback page: {e}");
    }
    format!(
        "/// No built UI: a page that says how to build it.\n\
         pub(crate) static ASSETS: &[Asset] = &[\n    \
         Asset {{ path: \"/index.html\", content_type: \"text/html; charset=utf-8\", body: include_bytes!({:?}) }},\n];\n\
         /// Whether the real UI was built (not the fallback page).\n\
         pub(crate) const UI_BUILT: bool = false;\n",
        page.to_string_lossy()
    )
}
