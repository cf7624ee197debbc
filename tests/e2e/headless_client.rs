//! The headless client package (`shopify-extension/headless`, `@kindred/headless`) against
//! this server on the real yoga-store catalogue: its types match the server's OpenAPI
//! document (regenerated and compared), and its client and React shelf call every
//! storefront endpoint as a headless frontend would, with the shapes the server answers.
//! `scripts/storefront-tools.sh` installs its development packages with `npm ci`.

use std::path::PathBuf;
use std::process::Command;

use crate::common::{databases, TestApp};

const SHOP: &str = "headless-yoga.myshopify.com";
const MAT: &str = "4357742755898";

fn package() -> PathBuf {
    crate::common::node_package("shopify-extension/headless")
}

/// `npm run <script>` in the package; its output, or a panic with everything it said.
fn npm(script: &str, env: &[(&str, String)]) -> String {
    let output = Command::new("npm")
        .args(["run", "--silent", script])
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .current_dir(package())
        .output()
        .expect("npm runs");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "npm run {script} failed ({}):\n{stdout}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_typed_client_and_its_react_shelf_work_against_this_server() {
    let app = TestApp::spawn(&databases()[0]).await;
    app.import(SHOP, "catalogs/yoga-stores/2026-01-13").await;
    let key = app.storefront_key(SHOP).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let router = app.router.clone();
    tokio::spawn(async move { axum::serve(listener, router).await });

    let env = vec![
        ("KINDRED_URL", format!("http://{address}")),
        ("KINDRED_KEY", key),
        ("KINDRED_PRODUCT_ID", MAT.to_owned()),
    ];
    let (unit, live) = tokio::task::spawn_blocking(move || {
        // The unit tests (build, type check, mock server), then the same client live.
        (npm("test", &[]), npm("test:live", &env))
    })
    .await
    .unwrap();
    assert!(unit.contains("# fail 0"), "{unit}");
    // Every live test ran (none skipped for want of a server) and passed.
    for line in ["# fail 0", "# skipped 0", "# cancelled 0"] {
        assert!(live.contains(line), "{line} expected:\n{live}");
    }
    assert!(!live.contains("# pass 0"), "{live}");
}
