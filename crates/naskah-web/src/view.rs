//! The view model shared by all pages: the layout's shell, forms and tables, rendering
//! and the error page. It knows no session and no page: the error answers use it too.

use askama::Template;
use axum::{
    http::StatusCode,
    response::{Html, IntoResponse, Response},
};
use serde::Deserialize;

use crate::validation::FieldErrors;

#[derive(Default)]
pub struct Shell {
    pub title: String,
    pub department_name: String,
    pub department_id: i64,
    pub has_logo: bool,
    pub user_name: String,
    pub csrf: String,
    pub nav: Vec<NavItem>,
    pub notice: String,
}

pub struct NavItem {
    pub href: String,
    pub label: String,
    pub active: bool,
}

impl NavItem {
    pub fn new(href: &str, label: &str, current: &str) -> Self {
        // "/surat" is not active on "/surat-masuk".
        let active = if href == "/" {
            current == "/"
        } else {
            current
                .strip_prefix(href)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with(['/', '?']))
        };
        NavItem {
            href: href.into(),
            label: label.into(),
            active,
        }
    }
}

#[derive(Default)]
pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

impl Choice {
    pub fn new(value: impl Into<String>, label: impl Into<String>, selected: bool) -> Self {
        Choice {
            value: value.into(),
            label: label.into(),
            selected,
        }
    }
}

/// One input of a form. `kind` is an HTML input type, or `select`, `checkboxes`,
/// `textarea` or `file`.
#[derive(Default)]
pub struct Field {
    pub name: String,
    pub label: String,
    pub kind: &'static str,
    pub value: String,
    pub options: Vec<Choice>,
    pub error: Option<String>,
    pub help: String,
    pub required: bool,
    pub autocomplete: String,
    /// For `file`: the types the file picker offers.
    pub accept: String,
    /// For `file`: the route's upload limit, checked by the browser before sending
    /// (`static/naskah.js`) and by the server while reading (`uploads.rs`).
    pub max_bytes: usize,
}

impl Field {
    pub fn text(name: &str, label: &str, value: &str) -> Self {
        Field {
            name: name.into(),
            label: label.into(),
            kind: "text",
            value: value.into(),
            ..Field::default()
        }
    }
    pub fn email(name: &str, label: &str, value: &str) -> Self {
        Field {
            kind: "email",
            ..Field::text(name, label, value)
        }
    }
    pub fn password(name: &str, label: &str, autocomplete: &str) -> Self {
        Field {
            kind: "password",
            autocomplete: autocomplete.into(),
            ..Field::text(name, label, "")
        }
    }
    /// A file input offering the given types (e.g. `.csv,text/csv`), up to `max_bytes`.
    pub fn file(name: &str, label: &str, accept: &str, max_bytes: usize) -> Self {
        Field {
            kind: "file",
            accept: accept.into(),
            max_bytes,
            ..Field::text(name, label, "")
        }
    }
    /// The limit as the pages say it ("32 MB").
    pub fn max_label(&self) -> String {
        crate::uploads::megabytes(self.max_bytes)
    }
    pub fn select(name: &str, label: &str, options: Vec<Choice>) -> Self {
        Field {
            kind: "select",
            options,
            ..Field::text(name, label, "")
        }
    }
    pub fn checkboxes(name: &str, label: &str, options: Vec<Choice>) -> Self {
        Field {
            kind: "checkboxes",
            options,
            ..Field::text(name, label, "")
        }
    }
    pub fn required(mut self) -> Self {
        self.required = true;
        self
    }
    pub fn help(mut self, help: &str) -> Self {
        self.help = help.into();
        self
    }
    pub fn autocomplete(mut self, value: &str) -> Self {
        self.autocomplete = value.into();
        self
    }
}

/// Choices from `(key, label)` pairs, with an empty first choice when `blank` is given.
pub fn choices(pairs: &[(&str, &str)], selected: &str, blank: Option<&str>) -> Vec<Choice> {
    let mut out = Vec::new();
    if let Some(blank) = blank {
        out.push(Choice::new("", blank, selected.is_empty()));
    }
    out.extend(pairs.iter().map(|(k, l)| Choice::new(*k, *l, *k == selected)));
    out
}

/// Choices from database rows `(id, label)`, for optional references.
pub fn id_choices(rows: impl IntoIterator<Item = (i64, String)>, selected: Option<i64>, blank: &str) -> Vec<Choice> {
    let mut out = vec![Choice::new("", blank, selected.is_none())];
    out.extend(
        rows.into_iter()
            .map(|(id, label)| Choice::new(id.to_string(), label, Some(id) == selected)),
    );
    out
}

#[derive(Default)]
pub struct Form {
    pub title: String,
    pub action: String,
    pub csrf: String,
    pub fields: Vec<Field>,
    pub submit: String,
    pub error_summary: String,
    /// Problems that belong to no single field (e.g. every faulty line of a file), one
    /// per list item under the summary.
    pub error_items: Vec<String>,
    pub multipart: bool,
    /// A second submit button (`format=pdf`); the first then sends `format=png`.
    pub alt_submit: String,
    /// A third submit button (`format=simpan`), shown with `alt_submit`.
    pub save_submit: String,
    /// Hidden inputs (name, value), e.g. the version the form was built from.
    pub hidden: Vec<(String, String)>,
    /// Send with GET (a filter, not a change): no CSRF token.
    pub method_get: bool,
    /// The submit button does something that cannot be undone (red, not green).
    pub danger: bool,
    /// A paragraph above the fields: what the form does.
    pub intro: String,
    /// A second, main button that does the submit and goes on (`lanjut=teruskan`); the
    /// plain submit then only saves.
    pub then_submit: String,
}

impl Form {
    pub fn new(title: &str, action: &str, csrf: &str, submit: &str, fields: Vec<Field>) -> Self {
        Form {
            title: title.into(),
            action: action.into(),
            csrf: csrf.into(),
            submit: submit.into(),
            fields,
            ..Form::default()
        }
    }

    /// Attaches validation messages to their fields and a summary at the top.
    pub fn with_errors(mut self, errors: &FieldErrors) -> Self {
        if errors.is_empty() {
            return self;
        }
        for f in &mut self.fields {
            f.error = errors.get(&f.name).map(str::to_string);
        }
        let unplaced: Vec<&str> = errors
            .0
            .iter()
            .filter(|e| !self.fields.iter().any(|f| f.name == e.field))
            .map(|e| e.message.as_str())
            .collect();
        self.error_summary = match unplaced.as_slice() {
            [] => "Periksa kembali isian yang ditandai.".into(),
            [one] => format!("Periksa kembali isian yang ditandai. {one}"),
            many => {
                self.error_items = many.iter().map(|m| m.to_string()).collect();
                "Periksa kembali isian yang ditandai:".into()
            }
        };
        self
    }
}

pub struct Table {
    pub title: String,
    pub columns: Vec<String>,
    pub rows: Vec<Row>,
}

#[derive(Default)]
pub struct Row {
    pub cells: Vec<String>,
    pub edit_href: String,
    pub post_action: String,
    pub post_label: String,
    /// The link's text; "Ubah" when empty.
    pub edit_label: String,
}

#[derive(Default)]
pub struct Page {
    pub heading: String,
    pub intro: String,
    /// Links under the introduction: (address, text).
    pub links: Vec<(String, String)>,
    pub back_href: String,
    pub tabs: Vec<NavItem>,
    pub secret: String,
    pub secret_label: String,
    pub image_src: String,
    pub image_alt: String,
    /// `logo` (small, framed) or `preview` (full width).
    pub image_class: String,
    pub table: Option<Table>,
    pub forms: Vec<Form>,
    pub delete_action: String,
    pub delete_label: String,
}

#[derive(Template)]
#[template(path = "page.html")]
pub struct PageTemplate {
    pub shell: Shell,
    pub page: Page,
}

pub fn render_page(status: StatusCode, shell: Shell, page: Page) -> Response {
    render(status, &PageTemplate { shell, page })
}

/// A submitted form as name/value pairs (repeated names, e.g. check boxes, allowed).
#[derive(Deserialize, Default, Debug)]
#[serde(transparent)]
pub struct FormData(pub Vec<(String, String)>);

impl FormData {
    pub fn get(&self, name: &str) -> String {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()).unwrap_or_default()
    }
    pub fn all(&self, name: &str) -> Vec<String> {
        self.0.iter().filter(|(k, _)| k == name).map(|(_, v)| v.clone()).collect()
    }
    /// An optional id from a select; empty means none.
    pub fn id(&self, name: &str) -> Result<Option<i64>, FieldErrors> {
        let raw = self.get(name);
        if raw.trim().is_empty() {
            return Ok(None);
        }
        raw.trim()
            .parse()
            .map(Some)
            .map_err(|_| FieldErrors::single(name, "Pilihan tidak valid."))
    }
}

/// Renders an askama template, turning a template failure into a 500 page.
pub fn render(status: StatusCode, template: &impl Template) -> Response {
    match template.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "templat gagal dirender");
            (StatusCode::INTERNAL_SERVER_ERROR, "Terjadi kesalahan pada server.").into_response()
        }
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorTemplate {
    shell: Shell,
    heading: String,
    message: String,
    /// A body over the limit: the way back is to the form the browser still holds.
    back_to_form: bool,
}

pub fn error_page(status: StatusCode, message: &str) -> Response {
    let heading = match status {
        StatusCode::NOT_FOUND => "Halaman tidak ditemukan",
        StatusCode::FORBIDDEN => "Akses ditolak",
        StatusCode::PAYLOAD_TOO_LARGE => "Data terlalu besar",
        StatusCode::TOO_MANY_REQUESTS => "Terlalu banyak percobaan",
        s if s.is_server_error() => "Kesalahan server",
        _ => "Permintaan tidak dapat diproses",
    };
    let shell = Shell {
        title: heading.into(),
        ..Shell::default()
    };
    render(
        status,
        &ErrorTemplate {
            shell,
            heading: heading.into(),
            message: message.into(),
            back_to_form: status == StatusCode::PAYLOAD_TOO_LARGE,
        },
    )
}
