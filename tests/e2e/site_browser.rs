//! The registry's website in a real browser: Debian's headless Chromium, driven over WebDriver
//! (Debian's chromedriver, spoken to as plain HTTP/JSON), loading the site from a loopback
//! server. It searches, opens a page by keyboard, presses the copy button, checks that no
//! hostile page ran script or needed its Content-Security-Policy to stop one (and that the
//! policy does stop markup planted past the sanitiser), runs axe-core
//! (pinned, from npm) in light and dark schemes with no violation, and writes screenshots (home
//! and a package page; light, dark, a phone's width) to `<target>/site-screenshots` for review.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use agents_test_support::TestEnv;
use agents_test_support::servers::{StaticServer, chromedriver};
use serde_json::{Value, json};

/// The axe-core release the accessibility check runs (pinned; installed with npm into the
/// cargo target directory on first use).
const AXE_CORE: &str = "axe-core@4.10.3";

/// One WebDriver session of headless Chromium.
struct Browser {
    agent: ureq::Agent,
    session: String,
}

impl Browser {
    fn start(driver: &str, profile: &Path) -> Browser {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(60)))
            .build()
            .into();
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:loggingPrefs": {"browser": "ALL"},
            "goog:chromeOptions": {
                "binary": "/usr/bin/chromium",
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                         "--window-size=1280,900", "--no-first-run", "--disable-extensions",
                         format!("--user-data-dir={}", profile.display())],
            },
        }}});
        let mut browser = Browser { agent, session: String::new() };
        let value = browser.send("POST", &format!("{driver}session"), &capabilities);
        browser.session = format!("{driver}session/{}", value["sessionId"].as_str().expect("a session id"));
        browser
    }

    fn send(&self, method: &str, url: &str, body: &Value) -> Value {
        let response = match method {
            "POST" => self.agent.post(url).content_type("application/json").send(body.to_string().as_bytes()),
            "DELETE" => self.agent.delete(url).call(),
            _ => self.agent.get(url).call(),
        };
        let mut response = response.unwrap_or_else(|e| panic!("{method} {url}: {e}"));
        let text = response.body_mut().with_config().limit(64 << 20).read_to_string().unwrap();
        let value: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{method} {url}: {e}: {text}"));
        assert!(value["value"].get("error").is_none(), "{method} {url} {body}: {}", value["value"]);
        value["value"].clone()
    }

    fn post(&self, path: &str, body: Value) -> Value {
        self.send("POST", &format!("{}/{path}", self.session), &body)
    }

    fn go(&self, url: &str) {
        self.post("url", json!({ "url": url }));
    }

    fn script(&self, script: &str) -> Value {
        self.post("execute/sync", json!({ "script": script, "args": [] }))
    }

    fn script_async(&self, script: &str) -> Value {
        self.post("execute/async", json!({ "script": script, "args": [] }))
    }

    fn cdp(&self, command: &str, params: Value) -> Value {
        self.post("goog/cdp/execute", json!({ "cmd": command, "params": params }))
    }

    fn element(&self, css: &str) -> String {
        let value = self.post("element", json!({ "using": "css selector", "value": css }));
        value.as_object().and_then(|o| o.values().next()).and_then(Value::as_str).expect("an element id").to_owned()
    }

    fn key(&self, key: &str) {
        self.post(
            "actions",
            json!({"actions": [{"type": "key", "id": "keyboard", "actions": [
                {"type": "keyDown", "value": key}, {"type": "keyUp", "value": key}]}]}),
        );
    }

    fn type_text(&self, text: &str) {
        for c in text.chars() {
            self.key(&c.to_string());
        }
    }

    fn wait_for(&self, what: &str, script: &str) {
        let deadline = Instant::now() + Duration::from_secs(15);
        while self.script(script) != json!(true) {
            assert!(Instant::now() < deadline, "timed out waiting for {what}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn screenshot(&self, path: &Path) {
        let value = self.send("GET", &format!("{}/screenshot", self.session), &Value::Null);
        std::fs::write(path, decode_base64(value.as_str().expect("a base64 PNG"))).unwrap();
    }

    /// The browser's console messages since the last call.
    fn console(&self) -> Vec<String> {
        let value = self.post("se/log", json!({ "type": "browser" }));
        value.as_array().into_iter().flatten().map(|entry| entry["message"].as_str().unwrap_or("").to_owned()).collect()
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.agent.delete(&self.session).call();
    }
}

fn decode_base64(text: &str) -> Vec<u8> {
    let value = |c: u8| match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        _ => 63,
    };
    let digits: Vec<u8> = text.bytes().filter(|c| *c != b'=' && !c.is_ascii_whitespace()).map(value).collect();
    let mut out = Vec::with_capacity(digits.len() * 3 / 4);
    for chunk in digits.chunks(4) {
        let n = chunk.iter().enumerate().fold(0u32, |n, (i, d)| n | u32::from(*d) << (18 - 6 * i));
        out.extend(n.to_be_bytes()[1..chunk.len()].iter());
    }
    out
}

/// The site of a registry with every kind of package and a hostile corpus, served on loopback.
fn served_site(env: &TestEnv) -> (StaticServer, String) {
    let git = crate::site::registry_with_every_kind(env);
    for (number, body) in agents_site::HOSTILE_BODIES.iter().enumerate() {
        let name = format!("hostile-{number}");
        let description = format!("<img src=x onerror=\"window.__hostile='description'\"> \u{202E}{number}");
        let text =
            format!("---\nname: {name}\ndescription: {}\n---\n{body}\n", serde_json::to_string(&description).unwrap());
        let file = env.path(&format!("{name}.md"));
        std::fs::write(&file, text).unwrap();
        env.run([OsStr::new("publish"), file.as_os_str(), "--version".as_ref(), "1.0.0".as_ref()]).success();
    }
    let www = env.path("www");
    agents_test_support::export_tree(&git, &www);
    crate::site::build(env, &git, &www).success();
    let server = StaticServer::start(&www);
    let base = format!("http://127.0.0.1:{}/", server.port);
    (server, base)
}

fn screenshots_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).parent().expect("the target directory").join("site-screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn a_reader_searches_opens_a_page_by_keyboard_and_copies_the_install_command() {
    let env = TestEnv::new();
    let (_server, base) = served_site(&env);
    let driver = chromedriver(&env);
    let browser = Browser::start(&driver.base_url, &env.path("profile"));
    browser.go(&format!("{base}index.html"));
    // Usable before the index loads: every package is linked from the page as served.
    let listed = browser.script("return document.querySelectorAll('#listing a[href^=\"packages/\"]').length");
    assert_eq!(listed, json!(agents_site::HOSTILE_BODIES.len() + 3));
    browser.wait_for("the search index", "return document.body.dataset.index === 'loaded'");
    // Keyboard only: Tab from the top reaches the skip link, then the search box.
    browser.key("\u{E004}");
    assert_eq!(browser.script("return document.activeElement.className"), json!("skip"));
    let mut tabs = 0;
    while browser.script("return document.activeElement.id") != json!("search") {
        browser.key("\u{E004}");
        tabs += 1;
        assert!(tabs < 5, "the search box is not reached by Tab");
    }
    browser.type_text("pdf");
    browser.wait_for("a result", "return !document.getElementById('results').hidden");
    assert_eq!(browser.script("return document.querySelector('#results a').textContent"), json!("pdf-forms"));
    assert_eq!(browser.script("return document.getElementById('search-status').textContent"), json!("1 match."));
    browser.key("\u{E004}");
    assert_eq!(browser.script("return document.activeElement.textContent"), json!("pdf-forms"));
    browser.key("\u{E007}");
    browser.wait_for("the package page", "return location.pathname === '/packages/pdf-forms.html'");
    assert_eq!(browser.script("return document.querySelector('h1').firstChild.textContent.trim()"), json!("pdf-forms"));

    browser.cdp(
        "Browser.grantPermissions",
        json!({"origin": base.trim_end_matches('/'), "permissions": ["clipboardReadWrite", "clipboardSanitizedWrite"]}),
    );
    let copy = browser.element("button.copy");
    browser.post(&format!("element/{copy}/click"), json!({}));
    browser.wait_for("the copy", "return document.getElementById('copy-status').textContent !== ''");
    assert_eq!(
        browser.script("return document.getElementById('copy-status').textContent"),
        json!("Copied: agents install pdf-forms")
    );
    let clipboard = browser.script_async(
        "const done = arguments[0]; navigator.clipboard.readText().then(done, e => done('error: ' + e));",
    );
    assert_eq!(clipboard, json!("agents install pdf-forms"));
}

#[test]
fn no_hostile_page_runs_script_and_every_page_passes_axe_in_both_schemes() {
    let env = TestEnv::new();
    let (server, base) = served_site(&env);
    let driver = chromedriver(&env);
    let browser = Browser::start(&driver.base_url, &env.path("profile"));
    for number in 0..agents_site::HOSTILE_BODIES.len() {
        browser.go(&format!("{base}packages/hostile-{number}.html"));
        browser.wait_for("the page's own script", "return !document.querySelector('button.copy').hidden");
        assert_eq!(browser.script("return typeof window.__hostile"), json!("undefined"), "hostile-{number} ran script");
        // Nothing was even tried: the sanitiser left the CSP nothing to refuse.
        let console = browser.console();
        assert!(console.iter().all(|line| !line.contains("Content Security Policy")), "hostile-{number}: {console:?}");
    }
    // The second wall: markup planted in a page after the sanitiser (as a broken sanitiser
    // would leave it) is stopped by the page's Content-Security-Policy.
    let page = server.root().join("packages/code-reviewer.html");
    let text = std::fs::read_to_string(&page).unwrap();
    let planted = "<script>window.__hostile = 'inline'</script><img src=x onerror=\"window.__hostile = 'event'\">\
                   <a id=planted href=\"javascript:window.__hostile = 'link'\">x</a>";
    std::fs::write(&page, text.replacen("<h2 id=\"install\">", &format!("{planted}<h2 id=\"install\">"), 1)).unwrap();
    browser.go(&format!("{base}packages/code-reviewer.html"));
    browser.wait_for("the page's own script", "return !document.querySelector('button.copy').hidden");
    let planted = browser.element("#planted");
    browser.post(&format!("element/{planted}/click"), json!({}));
    assert_eq!(browser.script("return typeof window.__hostile"), json!("undefined"), "the CSP let planted script run");
    let console = browser.console();
    assert!(console.iter().any(|line| line.contains("Content Security Policy")), "no CSP report: {console:?}");
    std::fs::write(&page, text).unwrap();
    let Some(axe) = axe_source() else { return };
    let shots = screenshots_dir();
    for (page, file) in [("index.html", "home"), ("packages/code-reviewer.html", "package")] {
        for scheme in ["light", "dark"] {
            browser.cdp(
                "Emulation.setEmulatedMedia",
                json!({"features": [{"name": "prefers-color-scheme", "value": scheme}]}),
            );
            for (width, height, form) in [(1280, 900, "desktop"), (390, 844, "phone")] {
                browser.cdp(
                    "Emulation.setDeviceMetricsOverride",
                    json!({"width": width, "height": height, "deviceScaleFactor": 1, "mobile": form == "phone"}),
                );
                browser.go(&format!("{base}{page}"));
                browser.wait_for("the page's own script", "return document.readyState === 'complete'");
                browser.screenshot(&shots.join(format!("{file}-{scheme}-{form}.png")));
                let violations = run_axe(&browser, &axe);
                assert_eq!(violations, json!([]), "axe on {page} ({scheme}, {form})");
            }
        }
    }
    eprintln!("screenshots of the site are in {}", shots.display());
}

/// The source of axe-core, installed with npm on first use; `None` (with a note) when npm or
/// the network is missing, as for the other npm tools the suite installs.
fn axe_source() -> Option<String> {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(AXE_CORE.replace('@', "-"));
    let file = dir.join("node_modules/axe-core/axe.min.js");
    match agents_test_support::npm_binary(&dir, AXE_CORE, "axe-core", || file.is_file().then(|| file.clone())) {
        Ok(path) => Some(std::fs::read_to_string(path).unwrap()),
        Err(why) => {
            eprintln!("note: skipping the axe-core check: {why}");
            None
        }
    }
}

fn run_axe(browser: &Browser, axe: &str) -> Value {
    let script = format!(
        "{axe}\n;const done = arguments[arguments.length - 1];\
         window.axe.run(document, {{ runOnly: {{ type: 'tag', values: \
         ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'] }} }})\
         .then(r => done(r.violations.map(v => ({{ id: v.id, help: v.help, \
         nodes: v.nodes.map(n => n.html + ' ' + n.failureSummary) }}))), e => done('axe failed: ' + e));"
    );
    browser.script_async(&script)
}

#[test]
fn search_over_100000_packages_answers_while_typing() {
    let env = TestEnv::new();
    let (server, base) = served_site(&env);
    // The same summary format `agents registry site` writes, at the scale.
    let summary = std::fs::read_to_string(server.root().join("search.json")).unwrap();
    let mut text = summary.lines().next().unwrap().to_owned();
    text.push('\n');
    for number in 0..100_000 {
        let line = json!({
            "name": format!("synthetic-agent-{number}"), "version": "1.2.3",
            "description": format!("Reviews code in language {} for team {}", number % 97, number % 1013),
            "index_sha256": "0".repeat(64),
        });
        text.push_str(&format!("{line}\n"));
    }
    let driver = chromedriver(&env);
    let browser = Browser::start(&driver.base_url, &env.path("profile"));
    // Without its index the home page still lists packages and says why search is missing.
    std::fs::remove_file(server.root().join("search.json")).unwrap();
    browser.go(&format!("{base}index.html"));
    browser.wait_for("the failed index", "return document.getElementById('search-status').textContent !== ''");
    let status = browser.script("return document.getElementById('search-status').textContent");
    assert_eq!(status, json!("Search is unavailable; every package is listed below."));
    let listed = browser.script("return document.querySelectorAll('#listing a[href^=\"packages/\"]').length");
    assert_eq!(listed, json!(agents_site::HOSTILE_BODIES.len() + 3));
    std::fs::write(server.root().join("search.json"), &text).unwrap();
    browser.go(&format!("{base}index.html"));
    browser.wait_for("the search index", "return document.body.dataset.index === 'loaded'");
    let loaded = browser.script("return performance.now()").as_f64().unwrap();
    let query = |words: &str| {
        let script = format!(
            "const input = document.getElementById('search'); input.value = {words:?}; const start = performance.now(); \
             input.dispatchEvent(new Event('input')); return [performance.now() - start, \
             document.getElementById('search-status').textContent];"
        );
        let value = browser.script(&script);
        (value[0].as_f64().unwrap(), value[1].as_str().unwrap().to_owned())
    };
    let (broad, broad_status) = query("agent");
    let (narrow, narrow_status) = query("synthetic-agent-99999");
    let (description, _) = query("language 42 team 7");
    eprintln!(
        "search over 100,000 packages ({} KB of search.json): index loaded {loaded:.0} ms after navigation; \
         queries {broad:.0} ms (\"agent\"), {narrow:.0} ms (one name), {description:.0} ms (three description words)",
        text.len() / 1000
    );
    assert_eq!(broad_status, "100000 matches; the first 50 are shown.");
    assert_eq!(narrow_status, "1 match.");
    // Generous bounds for a loaded 2-core machine: typing must never feel stuck.
    assert!(loaded < 10_000.0 && broad < 1_000.0 && narrow < 1_000.0 && description < 1_000.0);
}
