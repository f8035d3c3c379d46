//! What the browser tests share: chromedriver with a headless Chromium session, screenshots,
//! signing in. Each test file includes it with `#[path = "support/browser.rs"] mod kit;`.
#![allow(dead_code)]

use fantoccini::{Client, ClientBuilder, Locator};
use std::io::Write;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub const PASSWORD: &str = "a long password";

pub struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        self.0.kill().ok();
        self.0.wait().ok();
    }
}

fn chromedriver() -> Option<String> {
    ["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists())
        .map(String::from)
}

/// Starts chromedriver on a free port and a headless Chromium session on it.
pub async fn browser() -> Option<(Driver, Client)> {
    let Some(bin) = chromedriver() else {
        std::io::stderr()
            .write_all(b"SKIPPED: chromedriver not found (apt-get install chromium chromium-driver); browser tests not run\n")
            .ok();
        return None;
    };
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let child = Command::new(bin)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver starts");
    let driver = Driver(child);
    let caps = serde_json::json!({
        "goog:chromeOptions": {
            "binary": "/usr/bin/chromium",
            "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--disable-background-networking", "--window-size=1280,900"]
        }
    });
    let caps = caps.as_object().unwrap().clone();
    let url = format!("http://127.0.0.1:{port}");
    for _ in 0..50 {
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        if let Ok(c) = ClientBuilder::new(connector).capabilities(caps.clone()).connect(&url).await
        {
            return Some((driver, c));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("could not start a Chromium session through chromedriver");
}

pub async fn screenshot(c: &Client, name: &str) {
    let png = c.screenshot().await.unwrap();
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{name}.png"));
    std::fs::write(&path, png).unwrap();
    eprintln!("screenshot: {}", path.display());
}

/// Signs in as the admin the tests create, starting from a page that needs it.
pub async fn sign_in(c: &Client, base: &str) {
    c.goto(&format!("{}/customers", base)).await.unwrap();
    assert!(c.current_url().await.unwrap().path().starts_with("/login"), "redirected to sign in");
    c.find(Locator::Css("input[name=login]"))
        .await
        .unwrap()
        .send_keys("admin@example.com")
        .await
        .unwrap();
    c.find(Locator::Css("input[name=password]")).await.unwrap().send_keys(PASSWORD).await.unwrap();
    c.find(Locator::Css("button[type=submit]")).await.unwrap().click().await.unwrap();
    c.wait().for_element(Locator::Css("table.list")).await.unwrap();
    assert_eq!(c.current_url().await.unwrap().path(), "/customers", "back where we wanted to go");
}
