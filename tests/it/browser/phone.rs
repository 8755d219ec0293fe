//! Every page of every role at phone width: each role logs in and follows the links its
//! pages offer (one page per route, whatever the id), and every page must fit 360 px
//! without sideways scrolling, offer no tap target under 44 px (links inside running
//! text apart, as WCAG 2.5.8 allows) and pass axe-core without a serious or critical
//! violation. axe-core comes from the npm registry (`NASKAH_AXE_JS`, default
//! `/var/tmp/naskah-axe/node_modules/axe-core/axe.min.js`; `.ci/run` installs it).

use std::{collections::BTreeSet, path::PathBuf};

use serde_json::Value;

use super::driver::*;
use crate::support;

/// The roles of the demo department, each its own login.
const ROLES: [&str; 6] = ["konseptor", "staf", "kabid", "sekdis", "kadis", "agendaris"];
/// Pages visited per role at most (the walk stops there and says so).
const MAX_PAGES: usize = 60;

pub(super) fn axe_source() -> Option<String> {
    let path = std::env::var_os("NASKAH_AXE_JS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/var/tmp/naskah-axe/node_modules/axe-core/axe.min.js"));
    match std::fs::read_to_string(&path) {
        Ok(source) => Some(source),
        Err(e) => {
            assert!(
                !support::in_ci(),
                "CI: axe-core is missing at {} ({e}); npm install --prefix /var/tmp/naskah-axe axe-core@4",
                path.display()
            );
            eprintln!("axe-core not found at {}: the phone walk is skipped", path.display());
            None
        }
    }
}

/// "/surat/12?halaman=2" → "/surat/{}": one visit per route.
fn shape(path: &str) -> String {
    let path = path.split(['?', '#']).next().unwrap_or_default();
    path.split('/')
        .map(|part| if part.chars().any(|c| c.is_ascii_digit()) { "{}" } else { part })
        .collect::<Vec<_>>()
        .join("/")
}

/// Links worth visiting: pages of this service, not files, not leaving.
fn visitable(href: &str) -> bool {
    href.starts_with('/')
        && !href.starts_with("//")
        && ![
            ".csv", ".pdf", ".xlsx", ".png", ".svg", ".json", ".css", ".js", ".pem", ".crl", ".cer", "/pdf",
        ]
        .iter()
        .any(|ext| href.split(['?', '#']).next().unwrap_or_default().ends_with(ext))
        && !href.contains("/pindaian")
        && !href.contains("/halaman/")
        && !href.starts_with("/static/")
        && !href.starts_with("/logo/")
        && !href.starts_with("/keluar")
}

/// Tap targets under 44 px, described; an inline link in running text is exempt, and a
/// checkbox or radio button counts by its label.
const SMALL_TARGETS: &str = r#"
const inline = a => {
  const block = a.closest('p, li, dd, td, th, div, span.help');
  if (!block) return false;
  const own = a.textContent.trim();
  return block.textContent.replace(own, '').trim().length > 0 && getComputedStyle(a).display === 'inline';
};
const out = [];
for (const el of document.querySelectorAll('a[href], button, input:not([type=hidden]), select, textarea, summary')) {
  if (el.closest('[hidden]') || el.closest('details:not([open]) > :not(summary)')) continue;
  const style = getComputedStyle(el);
  if (style.display === 'none' || style.visibility === 'hidden') continue;
  if (el.tagName === 'A' && inline(el)) continue;
  if (el.classList.contains('skip')) continue;
  let target = el;
  if ((el.type === 'checkbox' || el.type === 'radio') && el.closest('label')) target = el.closest('label');
  const r = target.getBoundingClientRect();
  if (r.width === 0 && r.height === 0) continue;
  if (r.height < 43.5) {
    out.push(el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + (el.name ? '[name=' + el.name + ']' : '')
      + ' "' + (el.textContent || el.value || '').trim().slice(0, 30) + '" ' + Math.round(r.height) + 'px');
  }
}
return out.slice(0, 10);
"#;

fn check_page(s: &Session, axe: &str, label: &str, problems: &mut Vec<String>) {
    let viewport = s.script("return window.innerWidth");
    let fits = s.script("return document.documentElement.scrollWidth <= window.innerWidth");
    if viewport != serde_json::json!(WIDTH) || fits != serde_json::json!(true) {
        let wide = s.script(&format!(
            "return [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > {WIDTH} + 0.5) \
             .slice(0, 5).map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + (e.className ? '.' + e.className : '')).join(', ')"
        ));
        problems.push(format!("{label}: scrolls sideways at {WIDTH} px ({wide})"));
    }
    let small = s.script(SMALL_TARGETS);
    if let Some(list) = small.as_array().filter(|l| !l.is_empty()) {
        problems.push(format!("{label}: tap targets under 44 px: {}", join(list)));
    }
    s.script(&format!("{axe}\nwindow.__axe = null; return true;"));
    s.script(
        "axe.run(document, { resultTypes: ['violations'] }).then(r => { window.__axe = r.violations \
         .filter(v => v.impact === 'serious' || v.impact === 'critical') \
         .map(v => v.impact + ' ' + v.id + ': ' + v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(' | ')); }) \
         .catch(e => { window.__axe = ['axe failed: ' + e]; }); return true;",
    );
    let found = std::cell::RefCell::new(Value::Null);
    s.wait_for("axe-core's answer", |s| {
        let answer = s.try_script("return window.__axe")?;
        let done = !answer.is_null();
        *found.borrow_mut() = answer;
        Ok(done)
    });
    let found = found.into_inner();
    if let Some(list) = found.as_array().filter(|l| !l.is_empty()) {
        problems.push(format!("{label}: axe-core: {}", join(list)));
    }
}

fn join(list: &[Value]) -> String {
    list.iter()
        .map(|v| v.as_str().unwrap_or_default().to_string())
        .collect::<Vec<_>>()
        .join("; ")
}

/// Walks every role's pages; returns what failed, with the page and the role.
pub(super) fn phone_walk(browser: Browser, app: support::App, axe: String) -> Vec<String> {
    let (s, driver, _dir) = open_session(&browser);
    let mut problems = Vec::new();
    let mut visited = 0;
    for role in ROLES {
        s.log_in(&app, role, support::DEMO_PASSWORD);
        s.wait_for_page("/", "Tugas saya");
        // The menu folds behind one button: the header leaves the screen to the work.
        let header = s.script("return Math.round(document.querySelector('header.top').getBoundingClientRect().height)");
        if header.as_u64().is_none_or(|h| h > 160) {
            problems.push(format!(
                "{role}: the header is {header} px tall at {WIDTH} px; the menu does not fold"
            ));
        }
        let mut seen = BTreeSet::new();
        let mut queue = vec!["/".to_string()];
        while let Some(path) = queue.pop() {
            if !seen.insert(shape(&path)) {
                continue;
            }
            if seen.len() > MAX_PAGES {
                problems.push(format!("{role}: more than {MAX_PAGES} pages; the walk stopped"));
                break;
            }
            s.goto(&app.url(&path));
            let status = s.script("return document.title");
            let label = format!("{role} {path} ({})", status.as_str().unwrap_or_default());
            check_page(&s, &axe, &label, &mut problems);
            visited += 1;
            let links = s.script("return [...document.querySelectorAll('a[href]')].map(a => a.getAttribute('href'))");
            for href in links.as_array().into_iter().flatten().filter_map(Value::as_str) {
                if visitable(href) && !seen.contains(&shape(href)) {
                    queue.push(href.split('#').next().unwrap_or_default().to_string());
                }
            }
        }
        // Out through the menu, as a person would.
        s.goto(&app.url("/"));
        s.script("document.querySelector('form[action=\"/keluar\"]').submit(); return true;");
        s.wait_for_page("/masuk", "Masuk ke naskah");
    }
    assert!(visited >= 60, "only {visited} pages visited: the walk did not get around");
    eprintln!("phone walk: {visited} pages of {} roles at {WIDTH} px", ROLES.len());
    drop(s);
    drop(driver);
    problems
}

#[test]
fn route_shapes_and_visitable_links() {
    assert_eq!(shape("/surat/12?halaman=2"), "/surat/{}");
    assert_eq!(shape("/kumpulan/3/teruskan"), "/kumpulan/{}/teruskan");
    assert!(visitable("/distribusi?kumpulan=1"));
    assert!(!visitable("/agenda.csv"));
    assert!(!visitable("/surat/1/revisi/1/pdf"));
    assert!(!visitable("https://example.org/"));
}
